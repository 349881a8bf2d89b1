//! HTML pages: landmarks, language, security headers, CSRF, 404.

use crate::support::Server;

async fn start_pages(s: &Server) {
    for path in [
        "/",
        "/koeln/",
        "/dahlem/",
        "/kreis-euskirchen/",
        "/koeln/barrierefreiheit",
    ] {
        let res = s.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let html = res.text().await.unwrap();
        assert!(html.contains("<html lang=\"de\">"), "{path}");
        assert!(html.contains("href=\"#inhalt\""), "skip link on {path}");
        assert!(html.contains("<main id=\"inhalt\""), "{path}");
        assert!(
            html.contains("<header")
                && html.contains("<footer")
                && html.contains("aria-label=\"Hauptnavigation\"")
        );
        assert!(
            !html.contains("style=\""),
            "no inline styles (CSP) on {path}"
        );
    }
    let portal = s.get("/").await.text().await.unwrap();
    assert!(portal.contains("Serviceportal Nordrhein-Westfalen"));
    assert!(portal.contains("href=\"/dahlem/\""));
    let kreis = s.get("/kreis-euskirchen/").await.text().await.unwrap();
    assert!(
        kreis.contains("Gemeinde Dahlem"),
        "Kreis lists its Gemeinden"
    );
    let dahlem = s.get("/dahlem/").await.text().await.unwrap();
    assert!(dahlem.contains("05366012") && dahlem.contains("053660012012"));
    let css = s.get("/koeln/theme.css").await.text().await.unwrap();
    assert!(css.contains("--primary: #8a1538"));
    // Unknown tenant: HTML 404; bare slug redirects to the canonical URL; the Land goes to the portal.
    let res = s.get("/gibt-es-nicht/").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Kommune nicht gefunden"));
    assert_eq!(s.get("/koeln").await.headers()["location"], "/koeln/");
    assert_eq!(s.get("/nrw/").await.headers()["location"], "/");
}
crate::on_both_backends!(start_pages_t, start_pages);

async fn csrf_is_enforced(s: &Server) {
    let form = [
        ("csrf", "forged.token"),
        ("message", "Barriere"),
        ("contact", ""),
        ("page", ""),
    ];
    let res = s
        .client
        .post(s.url("/koeln/barrierefreiheit"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Formular ist abgelaufen")
    );
    // A valid pair works; an invalid e-mail is reported on the form, nothing stored.
    let (cookie, token) = s.form_session("/koeln/barrierefreiheit").await;
    let post = |msg: &'static str, contact: &'static str| {
        s.client
            .post(s.url("/koeln/barrierefreiheit"))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", token.as_str()),
                ("message", msg),
                ("contact", contact),
                ("page", ""),
            ])
            .send()
    };
    let res = post("Barriere", "keine-adresse").await.unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("role=\"alert\"") && html.contains("gültige E-Mail"));
    assert!(html.contains(">Barriere</textarea>"), "input is kept");
    let res = post("Barriere", "").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Vielen Dank"));
    // Oversized form body: 413, no crash.
    let (status, _) = s
        .oversized(
            "POST",
            "/koeln/barrierefreiheit",
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            2 << 20,
        )
        .await;
    assert_eq!(status, 413);
}
crate::on_both_backends!(csrf_t, csrf_is_enforced);

#[tokio::test]
async fn hsts_when_configured() {
    let db = rathaus_storage::testing::TestDatabase::sqlite().unwrap();
    let s = Server::start(
        db,
        "demo",
        &[
            ("RATHAUS_HTTP__HSTS", "true"),
            ("RATHAUS_HTTP__SECURE_COOKIES", "true"),
        ],
    );
    let res = s.get("/koeln/barrierefreiheit").await;
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );
    assert!(
        !s.get("/").await.headers().contains_key("set-cookie"),
        "no cookie where no form is"
    );
}

#[tokio::test]
async fn anonymous_forms_are_rate_limited() {
    let db = rathaus_storage::testing::TestDatabase::sqlite().unwrap();
    let s = Server::start(db, "demo", &[("RATHAUS_HTTP__FORM_RATE_PER_MINUTE", "3")]);
    let (cookie, token) = s.form_session("/dahlem/barrierefreiheit").await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let res = s
            .client
            .post(s.url("/dahlem/barrierefreiheit"))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", token.as_str()),
                ("message", "Barriere"),
                ("contact", ""),
                ("page", ""),
            ])
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    // Only three reports were stored.
    let token = s.token("dahlem", "redaktion", "Redaktion");
    let list: Vec<serde_json::Value> = s
        .get_as(&token, "/api/v1/tenants/dahlem/feedback")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 3);
}
