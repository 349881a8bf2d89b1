//! Passwords: argon2id hashing and the rules a new password must meet.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), so verification uses the
//! parameters a hash was made with and [`PasswordHasher::needs_rehash`] tells when a login
//! should upgrade an old hash to the current parameters.

use crate::{IdentityError, Result};
use argon2::password_hash::{PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::collections::HashSet;
use std::sync::LazyLock;

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for HashParams {
    /// OWASP's recommendation for argon2id (2025): 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl HashParams {
    /// OWASP's minimum; weaker parameters are refused.
    pub const MINIMUM: HashParams = HashParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };
}

/// Hashes and verifies passwords with argon2id.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    params: HashParams,
    argon: Argon2<'static>,
}

impl PasswordHasher {
    /// A hasher with the given parameters; refuses parameters below OWASP's minimum.
    pub fn new(params: HashParams) -> Result<Self> {
        let min = HashParams::MINIMUM;
        if params.memory_kib < min.memory_kib || params.iterations < min.iterations {
            return Err(IdentityError::Invalid(format!(
                "argon2id-Parameter unter dem OWASP-Minimum (m={} KiB, t={})",
                min.memory_kib, min.iterations
            )));
        }
        let p = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| IdentityError::Invalid(format!("argon2id-Parameter: {e}")))?;
        Ok(Self {
            params,
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, p),
        })
    }

    /// The parameters new hashes get.
    pub fn params(&self) -> HashParams {
        self.params
    }

    /// Hashes a password with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String> {
        use argon2::password_hash::PasswordHasher as _;
        let mut salt = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
        let salt =
            SaltString::encode_b64(&salt).map_err(|e| IdentityError::Crypto(e.to_string()))?;
        self.argon
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| IdentityError::Crypto(e.to_string()))
    }

    /// Whether `password` matches the stored PHC hash (constant time; false on a malformed hash).
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        PasswordHash::new(phc)
            .map(|h| self.argon.verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    }

    /// Whether a stored hash was made with other parameters than the current ones.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(h) = PasswordHash::new(phc) else {
            return true;
        };
        let Ok(p) = Params::try_from(&h) else {
            return true;
        };
        h.algorithm.as_str() != "argon2id"
            || p.m_cost() != self.params.memory_kib
            || p.t_cost() != self.params.iterations
            || p.p_cost() != self.params.parallelism
    }
}

/// Shortest accepted password (characters).
pub const MIN_LENGTH: usize = 10;
/// Longest accepted password (characters); longer input is refused before hashing.
pub const MAX_LENGTH: usize = 256;

static WEAK: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("weak_passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Checks a new password. `related` are words the password must not be built on (e-mail
/// address, names). Returns the German reason of the first rule it breaks.
pub fn check_policy(password: &str, related: &[&str]) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_LENGTH {
        return Err(format!(
            "Das Passwort muss mindestens {MIN_LENGTH} Zeichen lang sein."
        ));
    }
    if len > MAX_LENGTH {
        return Err(format!(
            "Das Passwort darf höchstens {MAX_LENGTH} Zeichen lang sein."
        ));
    }
    let distinct: HashSet<char> = password.chars().collect();
    if distinct.len() < 5 {
        return Err("Das Passwort besteht aus zu wenigen verschiedenen Zeichen.".into());
    }
    let lower = password.to_lowercase();
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    if core.is_empty() || WEAK.contains(core) || is_sequence(&lower) {
        return Err(
            "Dieses Passwort ist zu leicht zu erraten (es kommt in Listen gestohlener Passwörter vor). Bitte wählen Sie ein anderes."
                .into(),
        );
    }
    for word in related {
        for part in word
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|p| p.chars().count() >= 4)
        {
            if core == part || (lower.contains(part) && part.chars().count() * 2 >= len) {
                return Err(
                    "Das Passwort darf nicht auf Ihrem Namen oder Ihrer E-Mail-Adresse beruhen."
                        .into(),
                );
            }
        }
    }
    Ok(())
}

/// Runs of ascending or repeated characters over the whole password ("1234567890", "aaaaaaaaaa").
fn is_sequence(lower: &str) -> bool {
    let chars: Vec<u32> = lower.chars().map(u32::from).collect();
    let steps: HashSet<i64> = chars
        .windows(2)
        .map(|w| i64::from(w[1]) - i64::from(w[0]))
        .collect();
    steps.len() == 1 && steps.iter().all(|s| s.abs() <= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_the_parameters_and_verify() {
        let hasher = PasswordHasher::new(HashParams::default()).unwrap();
        let hash = hasher.hash("Demo-Passwort-1").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(hasher.verify("Demo-Passwort-1", &hash));
        assert!(!hasher.verify("Demo-Passwort-2", &hash));
        assert!(!hasher.verify("Demo-Passwort-1", "kein hash"));
        assert!(!hasher.needs_rehash(&hash));
        let stronger = PasswordHasher::new(HashParams {
            memory_kib: 32 * 1024,
            ..HashParams::default()
        })
        .unwrap();
        assert!(stronger.needs_rehash(&hash));
        assert!(
            stronger.verify("Demo-Passwort-1", &hash),
            "old parameters still verify"
        );
    }

    #[test]
    fn parameters_below_the_owasp_minimum_are_refused() {
        let weak = HashParams {
            memory_kib: 4096,
            ..HashParams::default()
        };
        assert!(PasswordHasher::new(weak).is_err());
    }

    #[test]
    fn policy_refuses_short_common_sequential_and_personal_passwords() {
        let email = ["erika.mustermann@example.org", "Erika", "Mustermann"];
        assert!(check_policy("Demo-Passwort-1", &email).is_ok());
        assert!(check_policy("Apfelbaum sucht Regenschirm", &email).is_ok());
        for bad in [
            "kurz",
            "Passwort123!",
            "!!Sonnenschein2024",
            "1234567890",
            "aaaaaaaaaaaa",
            "abababababab",
            "Mustermann2026",
            "erika.mustermann",
        ] {
            assert!(
                check_policy(bad, &email).is_err(),
                "{bad} should be refused"
            );
        }
        assert!(check_policy(&"x".repeat(300), &[]).is_err());
    }
}
