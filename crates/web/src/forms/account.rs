//! The citizen's applications on the account page: sent ones with their receipts, and drafts to
//! continue.

use super::inbox::status_label;
use crate::state::AppState;
use maud::{Markup, html};
use rathaus_core::TenantId;
use std::collections::HashMap;

/// One line of the list.
struct Line {
    title: String,
    link: String,
    when: String,
    detail: String,
}

/// Title of a form as the tenant offers it.
async fn title(state: &AppState, tenant: &str, form_id: &str) -> Option<String> {
    let tenant: TenantId = tenant.parse().ok()?;
    let (record, _, _) = state.forms.published_for(tenant, form_id).await.ok()??;
    Some(record.title)
}

/// "Meine Anträge" for the account page.
pub(crate) async fn section(state: &AppState, account_id: &str) -> Markup {
    let slugs: HashMap<String, String> = state
        .tenants
        .list()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.id.to_string(), t.slug.to_string()))
        .collect();
    let mut sent = Vec::new();
    for s in state
        .submissions
        .of_account(account_id)
        .await
        .unwrap_or_default()
    {
        let Some(slug) = slugs.get(&s.tenant_id) else {
            continue;
        };
        sent.push(Line {
            title: title(state, &s.tenant_id, &s.form_id)
                .await
                .unwrap_or_else(|| "Antrag".into()),
            link: format!("/{slug}/formulare/{}/eingang/{}", s.form_id, s.id),
            when: rathaus_core::time::display_de(&s.created_at),
            detail: format!("{} · {}", s.reference, status_label(&s.status)),
        });
    }
    let mut drafts = Vec::new();
    for d in state
        .submissions
        .drafts_of_account(account_id)
        .await
        .unwrap_or_default()
    {
        let Some(slug) = slugs.get(&d.tenant_id) else {
            continue;
        };
        let Some(title) = title(state, &d.tenant_id, &d.form_id).await else {
            continue;
        };
        drafts.push(Line {
            title,
            link: format!("/{slug}/formulare/{}?schritt={}", d.form_id, d.step + 1),
            when: rathaus_core::time::display_de(&d.updated_at),
            detail: "Entwurf".into(),
        });
    }
    html! {
        h2 { "Meine Anträge" }
        @if sent.is_empty() && drafts.is_empty() {
            p { "Sie haben noch keine Online-Anträge gestellt." }
        }
        @if !drafts.is_empty() {
            h3 { "Begonnene Anträge" }
            ul class="liste" {
                @for l in &drafts {
                    li { a href=(l.link) { (l.title) " weiter ausfüllen" } " – zuletzt gespeichert " (l.when) }
                }
            }
        }
        @if !sent.is_empty() {
            h3 { "Gesendete Anträge" }
            ul class="liste" {
                @for l in &sent {
                    li { a href=(l.link) { "Eingangsbestätigung: " (l.title) } " – " (l.when) " (" (l.detail) ")" }
                }
            }
        }
    }
}
