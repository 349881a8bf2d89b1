//! The service catalogue through the public interface: import CLI, search API, HTML search.

use crate::support::Server;
use serde_json::Value;
use std::time::Duration;

/// The names of the hits of a search answer.
fn names(answer: &Value) -> Vec<&str> {
    answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect()
}

/// Waits until the background search index is built.
async fn search(s: &Server, query: &str) -> Value {
    for _ in 0..200 {
        let res = s.get(&format!("/api/v1/services?{query}")).await;
        if res.status() != 503 {
            assert_eq!(res.status(), 200, "{query}");
            return res.json().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("search index not ready");
}

async fn search_api(s: &Server) {
    let r = search(s, "q=Hund%20anmelden&tenant=koeln").await;
    assert!(r["total"].as_u64().unwrap() > 0);
    let first = &r["items"][0];
    assert_eq!(first["leika"], "99110009104000", "{r}");
    assert_eq!(first["name"], "Hundehaltung Anmeldung");
    assert_eq!(first["online"], true, "Köln offers it online in the demo");
    assert!(
        first["url"]
            .as_str()
            .unwrap()
            .starts_with("/koeln/leistungen/")
    );
    // Dahlem offers it on site only.
    let r = search(s, "q=Hund%20anmelden&tenant=dahlem").await;
    let hit = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["leika"] == "99110009104000")
        .unwrap();
    assert_eq!(hit["online"], false);
    // The whole state's catalogue, typos and umlaut spellings.
    for (q, leika_prefix) in [
        ("Hundsteuer", "99102013"),
        ("Fuehrerschein", "99023001"),
        ("Personalausweiss", "99008001"),
    ] {
        let r = search(s, &format!("q={q}")).await;
        let top: Vec<&str> = r["items"]
            .as_array()
            .unwrap()
            .iter()
            .take(5)
            .filter_map(|i| i["leika"].as_str())
            .collect();
        assert!(
            top.iter().any(|k| k.starts_with(leika_prefix)),
            "{q}: {top:?}"
        );
    }
    // Empty and very long queries answer correctly; paging is bounded.
    assert_eq!(search(s, "q=").await["total"], 0);
    assert_eq!(search(s, "q=%20%20").await["total"], 0);
    let long = "Hund".repeat(250);
    let r = search(s, &format!("q={long}&limit=500&offset=99999")).await;
    assert!(r["items"].as_array().unwrap().len() <= 100);
    // Unknown tenant: 404 problem.
    let res = s.get("/api/v1/services?q=Hund&tenant=gibtsnicht").await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
}
crate::on_both_backends!(search_api_t, search_api);

async fn html_search_and_service_pages(s: &Server) {
    search(s, "q=x").await;
    let html = s
        .get("/koeln/suche?q=Personalausweis")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("role=\"search\"") && html.contains("Treffer"));
    let link = html
        .split("href=\"/koeln/leistungen/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let page = s.get(&format!("/koeln/leistungen/{link}")).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("LeiKa-Schlüssel"));
    let hund = s
        .get("/koeln/suche?q=Hund+anmelden")
        .await
        .text()
        .await
        .unwrap();
    assert!(hund.contains("Hundehaltung Anmeldung") && hund.contains("class=\"badge\""));
    assert_eq!(s.get("/leistungen/999999999").await.status(), 404);
    assert_eq!(s.get("/koeln/leistungen/abc").await.status(), 404);
    assert_eq!(s.get("/suche").await.status(), 200);
}
crate::on_both_backends!(html_search_t, html_search_and_service_pages);

async fn import_cli(s: &Server) {
    let dir = tempfile::tempdir().unwrap();
    let real =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/ozg-leika");
    for f in [
        "ozg_themenfelder.csv",
        "ozg_lebenslagen.csv",
        "ozg_leistungen.csv",
    ] {
        std::fs::copy(real.join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(
        dir.path().join("leika_leistungen.csv"),
        "id,service_key,name,service_type,service_system_id\n1,99012001000000,Abbruchgenehmigung,4,1\n2,99 kaputt,Falsch,4,1\n3,99012001001000,,4,1\n",
    )
    .unwrap();
    let out = s.cli(&[
        "catalog",
        "import",
        "--dir",
        dir.path().to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["imported"]["leistungen"], 1);
    let rejected = report["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2, "{report}");
    assert_eq!(rejected[0]["line"], 3);
    assert!(
        rejected[0]["reason"]
            .as_str()
            .unwrap()
            .contains("14 Ziffern")
    );
    assert_eq!(rejected[1]["line"], 4);
    // Idempotent.
    let again: Value = serde_json::from_slice(
        &s.cli(&[
            "catalog",
            "import",
            "--dir",
            dir.path().to_str().unwrap(),
            "--json",
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(again["imported"], report["imported"]);
    // Refused: a missing directory, a tenant that is not a Land. Nothing changes.
    let out = s.cli(&["catalog", "import", "--dir", "/nonexistent"]);
    assert_eq!(out.status.code(), Some(2));
    let out = s.cli(&[
        "catalog",
        "import",
        "--dir",
        dir.path().to_str().unwrap(),
        "--land",
        "koeln",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kein Land"));
    // The running server picks up the new catalogue (within its refresh interval) — checked via the database.
    let db = s.db().connect().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM catalog_leistungen")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
}
crate::on_both_backends!(import_cli_t, import_cli);

async fn assistant_api(s: &Server) {
    search(s, "q=x").await;
    let ask = |q: &str| {
        let url = s.url("/api/v1/assistant");
        let q = q.to_owned();
        async move {
            s.client
                .get(url)
                .query(&[("q", q.as_str()), ("limit", "5")])
                .send()
                .await
                .unwrap()
        }
    };
    let r: Value = ask("Ich möchte ein Café eröffnen")
        .await
        .json()
        .await
        .unwrap();
    let hits = names(&r);
    assert!(hits.iter().any(|n| n.starts_with("Gaststätte")), "{hits:?}");
    let r: Value = ask("Wir bekommen ein Baby").await.json().await.unwrap();
    let hits = names(&r);
    assert!(
        hits.iter()
            .any(|n| n.contains("Geburt") || n.contains("Elterngeld")),
        "{hits:?}"
    );
    let r: Value = ask("").await.json().await.unwrap();
    assert_eq!(r["total"], 0);
    let res = ask(&"Hund ".repeat(200)).await;
    assert_eq!(res.status(), 200);
    let page = s
        .get("/koeln/assistent?q=Ich+ziehe+nach+K%C3%B6ln+um")
        .await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Wohnsitz"));
}
crate::on_both_backends!(assistant_t, assistant_api);

async fn federation_export(s: &Server) {
    let e: Value = s
        .get("/api/v1/tenants/koeln/services-export")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(e["format"], "rathaus-leistungen/1");
    assert_eq!(e["tenant"]["ags"], "05315000");
    let services = e["services"].as_array().unwrap();
    assert!(services.len() > 10);
    let hund = services
        .iter()
        .find(|x| x["leika"] == "99110009104000")
        .unwrap();
    assert_eq!(
        (hund["online"].as_bool(), hund["maturity"].as_i64()),
        (Some(true), Some(3))
    );
    // Consistent with the dashboard: every OZG-Leistung counted online there has an online service here.
    let dash: Value = s
        .get("/api/v1/ozg-dashboard?tenant=koeln")
        .await
        .json()
        .await
        .unwrap();
    let online_ozg: std::collections::HashSet<&str> = services
        .iter()
        .filter(|x| x["online"] == true)
        .filter_map(|x| x["ozg_id"].as_str())
        .collect();
    assert_eq!(
        online_ozg.len() as u64,
        dash["coverage"]["online"].as_u64().unwrap()
    );
    assert_eq!(
        s.get("/api/v1/tenants/gibtsnicht/services-export")
            .await
            .status(),
        404
    );
}
crate::on_both_backends!(export_t, federation_export);

async fn facets_and_filters(s: &Server) {
    let all = search(s, "q=Anmeldung&tenant=koeln&facets=true").await;
    let themen = all["facets"]["themenfeld"].as_array().unwrap();
    assert!(themen.len() > 3, "{all}");
    let first = themen[0]["name"].as_str().unwrap().to_owned();
    let count = themen[0]["count"].as_u64().unwrap();
    let only: Value = search(
        s,
        &format!(
            "q=Anmeldung&tenant=koeln&themenfeld={}",
            first.replace('&', "%26").replace(' ', "%20")
        ),
    )
    .await;
    assert_eq!(only["total"].as_u64().unwrap(), count);
    assert!(
        only["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["themenfeld"] == first.as_str())
    );
    let online = search(s, "q=Anmeldung&tenant=koeln&online=true").await;
    assert_eq!(online["total"], all["facets"]["online"]);
    assert!(
        online["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["online"] == true)
    );
    // Lebenslagen likewise: the facet's count is what the filter finds, and the page offers it.
    let lagen = all["facets"]["lebenslage"].as_array().unwrap();
    assert!(lagen.len() > 3, "{all}");
    let lage = lagen[0]["name"].as_str().unwrap().to_owned();
    let encoded: String = url::form_urlencoded::byte_serialize(lage.as_bytes()).collect();
    let only_lage = search(s, &format!("q=Anmeldung&tenant=koeln&lebenslage={encoded}")).await;
    assert_eq!(only_lage["total"], lagen[0]["count"]);
    assert!(
        only_lage["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["lebenslage"] == lage.as_str())
    );
    let page = s
        .get(&format!("/koeln/suche?q=Anmeldung&lebenslage={encoded}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Nach Lebenslage:") && page.contains("aria-current=\"true\""));
    assert!(
        page.contains(&format!("{} Treffer", lagen[0]["count"])),
        "{page}"
    );
    // Without facet or filter parameters the answer keeps the plain contract shape.
    assert!(search(s, "q=Anmeldung").await.get("facets").is_none());
}
crate::on_both_backends!(facets_t, facets_and_filters);

async fn suggestions(s: &Server) {
    search(s, "q=x").await;
    let names: Vec<String> = s.get("/api/v1/suggest?q=Hund").await.json().await.unwrap();
    assert!(!names.is_empty() && names.len() <= 8);
    assert!(names.iter().any(|n| n.starts_with("Hund")), "{names:?}");
    let unique: std::collections::HashSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
    let none: Vec<String> = s.get("/api/v1/suggest?q=H").await.json().await.unwrap();
    assert!(none.is_empty(), "at least two characters");
    let page = s.get("/koeln/").await.text().await.unwrap();
    assert!(page.contains("list=\"q-vorschlaege\"") && page.contains("/assets/suggest.js"));
    assert_eq!(s.get("/assets/suggest.js").await.status(), 200);
}
crate::on_both_backends!(suggest_t, suggestions);
