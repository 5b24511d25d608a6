//! Argon2id password hashing, run on the blocking thread pool (it is deliberately slow).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use rand::rngs::OsRng;

/// Hashes and verifies passwords with argon2id (the crate's defaults: 19 MiB, 2 passes).
pub struct PasswordHasher {
    /// A hash of a random password, verified against when the account does not exist so that
    /// "no such user" takes as long as "wrong password".
    dummy: OnceLock<String>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl PasswordHasher {
    /// A hasher; the dummy hash is made on first use.
    pub fn new() -> Self {
        Self {
            dummy: OnceLock::new(),
        }
    }

    /// The PHC string for `password`.
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
    }

    /// Whether `password` matches `phc`; with `None` it verifies against a dummy hash and
    /// returns false, taking the same time.
    pub async fn verify(&self, password: String, phc: Option<String>) -> anyhow::Result<bool> {
        let unknown_account = phc.is_none();
        let dummy = match phc {
            Some(_) => None,
            None => Some(self.dummy_hash()?),
        };
        let matched = tokio::task::spawn_blocking(move || {
            let target = phc.as_deref().or(dummy.as_deref()).unwrap_or_default();
            let parsed = PasswordHash::new(target).map_err(|e| anyhow::anyhow!("bad hash: {e}"))?;
            Ok::<_, anyhow::Error>(
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok(),
            )
        })
        .await??;
        Ok(matched && !unknown_account)
    }

    fn dummy_hash(&self) -> anyhow::Result<String> {
        if let Some(h) = self.dummy.get() {
            return Ok(h.clone());
        }
        let mut secret = [0u8; 16];
        rand::RngCore::fill_bytes(&mut OsRng, &mut secret);
        let h = hash_blocking(&format!("{secret:?}"))?;
        Ok(self.dummy.get_or_init(|| h).clone())
    }
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let h = PasswordHasher::new();
        let phc = h.hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(
            h.verify("correct horse".into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(!h.verify("wrong horse".into(), Some(phc)).await.unwrap());
        assert!(!h.verify("anything".into(), None).await.unwrap());
    }
}
