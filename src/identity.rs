//! Wiring of the Servicekonto: provider settings from the configuration, upstream provider,
//! mail outbox, and the periodic upkeep (key rotation, expired grants).

use crate::config::Config;
use anyhow::{Context, Result};
use chrono::Duration;
use rathaus_identity::keys::SigningAlg;
use rathaus_identity::mail::Outbox;
use rathaus_identity::password::HashParams;
use rathaus_identity::provider::{Provider, ProviderConfig};
use rathaus_identity::upstream::{Upstream, UpstreamConfig};
use rathaus_storage::Db;
use rathaus_web::IdentityParts;
use std::net::SocketAddr;

/// The issuer: configured, or derived from the listening address.
pub fn issuer(config: &Config, addr: SocketAddr) -> String {
    if let Some(i) = &config.identity.issuer {
        return i.trim_end_matches('/').to_owned();
    }
    let host = if addr.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    format!("http://{host}")
}

/// Builds the provider (loading or creating its signing keys), the upstream client and the outbox.
pub async fn build(
    config: &Config,
    db: &Db,
    addr: SocketAddr,
    secret: &[u8],
) -> Result<IdentityParts> {
    let c = &config.identity;
    let issuer = issuer(config, addr);
    let mut pc = ProviderConfig::new(&issuer, secret.to_vec());
    pc.signing_alg = c
        .signing_alg
        .parse::<SigningAlg>()
        .map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        c.access_token_secs >= 30,
        "identity.access_token_secs muss mindestens 30 sein"
    );
    pc.access_ttl = Duration::seconds(c.access_token_secs);
    pc.id_ttl = Duration::seconds(c.access_token_secs);
    pc.refresh_ttl = Duration::days(c.refresh_token_days.max(1));
    pc.session_ttl = Duration::hours(c.session_hours.max(1));
    pc.rotate_after = Duration::days(c.key_rotation_days.max(1));
    pc.hash_params = HashParams {
        memory_kib: c.argon2_memory_kib,
        iterations: c.argon2_iterations,
        parallelism: c.argon2_parallelism,
    };
    let provider = Provider::new(db.clone(), pc)
        .await
        .context("Servicekonto nicht startbar")?;
    let upstream = match &c.upstream {
        Some(u) if !u.issuer.is_empty() => {
            let secret = config.upstream_secret()?.unwrap_or_default();
            let up = Upstream::new(
                UpstreamConfig {
                    issuer: u.issuer.trim_end_matches('/').to_owned(),
                    client_id: u.client_id.clone(),
                    client_secret: secret,
                    name: u.name.clone(),
                    redirect_uri: format!("{issuer}/anmelden/extern/rueckkehr"),
                },
                provider.sealer().clone(),
            )?;
            tracing::info!(issuer = %u.issuer, name = %u.name, "upstream identity provider configured");
            Some(up)
        }
        _ => None,
    };
    let outbox_dir = c
        .mail_outbox
        .clone()
        .unwrap_or_else(|| config.data_dir.join("mail-outbox"));
    tracing::info!(%issuer, alg = %c.signing_alg, "OpenID Connect provider ready");
    Ok(IdentityParts {
        provider,
        upstream,
        outbox: Outbox::new(outbox_dir, c.mail_from.clone()),
    })
}

/// Every minute: reload (and rotate when due) the signing keys, so all nodes publish and
/// accept the same keys; every hour: drop expired codes, tokens and sessions.
pub fn spawn_upkeep(provider: Provider) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        tick.tick().await;
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            n += 1;
            if let Err(e) = provider.refresh_keys().await {
                tracing::warn!(error = %e, "signing keys could not be reloaded");
            }
            if n.is_multiple_of(60) {
                match provider.grants.purge_expired().await {
                    Ok(k) if k > 0 => tracing::info!(removed = k, "expired grants removed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "expired grants could not be removed"),
                }
            }
        }
    });
}
