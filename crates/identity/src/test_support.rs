//! Fixtures shared by the crate's unit tests.

use crate::TrustLevel;
use crate::accounts::{AccountKind, AccountStore, NewAccount};
use crate::clients::{Client, ClientKind, ClientStore, NewClient};
use crate::grants::Grant;
use rathaus_storage::Db;

/// An account `rotation@example.org`, public clients `app-a` and `app-b` allowed refresh
/// tokens, and a grant of `app-a` for the account.
pub(crate) async fn rotation_fixture(db: &Db) -> Grant {
    let account = AccountStore::new(db.clone())
        .create(
            &NewAccount {
                kind: AccountKind::Person,
                email: "rotation@example.org".into(),
                password_hash: None,
                profile: Default::default(),
                email_verified: true,
            },
            "test",
        )
        .await
        .expect("account");
    let clients = ClientStore::new(db.clone());
    for id in ["app-a", "app-b"] {
        let client = Client {
            client_id: id.into(),
            tenant_id: None,
            name: id.into(),
            kind: ClientKind::Public,
            secret_hash: None,
            redirect_uris: vec!["http://127.0.0.1/callback".into()],
            post_logout_redirect_uris: vec![],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            scopes: vec!["openid".into(), "offline_access".into()],
            acts_for: vec![],
            staff_role: None,
            id_token_alg: None,
        };
        clients
            .upsert(
                &NewClient {
                    client,
                    secret: None,
                },
                "test",
            )
            .await
            .expect("client");
    }
    Grant {
        client_id: "app-a".into(),
        account_id: account.id,
        sid: "s1".into(),
        scope: "openid offline_access".into(),
        level: TrustLevel::Low,
        amr: vec!["pwd".into()],
        auth_time: 1,
    }
}
