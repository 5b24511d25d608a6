//! A short list of passwords that appear at the top of every public breach corpus, plus a few
//! patterns (one repeated character, a run of digits). Only passwords of 8+ characters matter:
//! shorter ones already fail the length rule. Compared case-insensitively.

const COMMON: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "pa55word",
    "passwort",
    "motdepasse",
    "contraseña",
    "contrasena",
    "senha123",
    "senha1234",
    "senhasenha",
    "minhasenha",
    "12345678",
    "123456789",
    "1234567890",
    "12341234",
    "11111111",
    "00000000",
    "87654321",
    "123123123",
    "123321123",
    "11223344",
    "12121212",
    "qwertyuiop",
    "qwerty123",
    "qwerty12",
    "qwerty1234",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "1qaz2wsx",
    "zaq12wsx",
    "qazwsxedc",
    "asdfghjkl",
    "asdfasdf",
    "zxcvbnm1",
    "abc12345",
    "abcd1234",
    "abcdefgh",
    "aa123456",
    "iloveyou",
    "iloveyou1",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "basketball",
    "superman",
    "batman123",
    "starwars",
    "trustno1",
    "welcome1",
    "welcome123",
    "letmein1",
    "letmein123",
    "monkey123",
    "dragon123",
    "master123",
    "shadow123",
    "michael1",
    "jennifer",
    "jordan23",
    "whatever",
    "computer",
    "internet",
    "corinthians",
    "flamengo",
    "palmeiras",
    "saopaulo",
    "brasil123",
    "mudar123",
    "changeme",
    "changeme123",
    "admin123",
    "administrator",
    "adminadmin",
    "rootroot",
    "test1234",
    "testtest",
    "guest123",
    "default1",
    "secret123",
    "mypassword",
    "access14",
    "charlie1",
    "fuckyou1",
    "freedom1",
    "hello123",
    "helloworld",
    "liverpool",
    "chelsea1",
    "arsenal1",
    "pokemon1",
    "minecraft",
    "samsung1",
    "google123",
    "facebook",
    "linkedin",
    "q1w2e3r4",
    "q1w2e3r4t5",
    "1234qwer",
    "qwer1234",
    "asdf1234",
    "zxcv1234",
    "password!",
    "12345678910",
    "987654321",
    "147258369",
    "159753159753",
    "123654789",
    "loveyou1",
    "lovelove",
    "babygirl",
    "sweetheart",
    "blink182",
    "whatever1",
    "nothing1",
    "anything",
    "everything",
    "forever1",
    "gabriel1",
    "matheus1",
    "lucas123",
    "pedro123",
    "maria123",
    "jesus123",
    "deusefiel",
    "eusouodono",
    "papo1234",
    "papopapo",
];

/// Whether `password` is well known or trivially patterned.
pub fn is_common_password(password: &str) -> bool {
    let lower = password.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        return true;
    }
    let mut chars = lower.chars();
    let first = chars.next();
    if first.is_some() && chars.all(|c| Some(c) == first) {
        return true;
    }
    // A run of consecutive digits, up or down ("23456789", "98765432").
    let digits: Vec<u32> = lower.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() == lower.chars().count() && digits.len() >= 8 {
        let up = digits.windows(2).all(|w| w[1] == (w[0] + 1) % 10);
        let down = digits.windows(2).all(|w| w[0] == (w[1] + 1) % 10);
        if up || down {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::is_common_password;

    #[test]
    fn recognises_common_and_patterned_passwords() {
        for p in [
            "password",
            "PASSWORD1",
            "12345678",
            "qwerty123",
            "zzzzzzzzzz",
            "23456789",
            "98765432",
        ] {
            assert!(is_common_password(p), "{p}");
        }
        for p in ["tr0ub4dor&3", "correct horse battery staple", "13572468"] {
            assert!(!is_common_password(p), "{p}");
        }
    }
}
