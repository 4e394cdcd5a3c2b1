//! A Rust bot that gets its exchange key from `vault run` and signs a Binance request with it:
//!
//! ```sh
//! vault run --bot mybot -- cargo run -p vault-core --example binance_bot
//! ```
//!
//! It reads the key with [`Credentials::from_env`] (either env profile), signs Binance's
//! key-permission request (`GET /sapi/v1/account/apiRestrictions`) exactly as Binance documents
//! (HMAC-SHA256 of the query string, hex), and prints the request it would send, with the API
//! key masked. It sends nothing. `BINANCE_BOT_TIMESTAMP` fixes the clock, for tests.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use vault_core::Credentials;

/// Binance's signature: lowercase hex of HMAC-SHA256(secret, payload).
fn sign(secret: &str, payload: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn main() {
    let creds = match Credentials::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("binance_bot: {e}");
            std::process::exit(1);
        }
    };
    let ts = std::env::var("BINANCE_BOT_TIMESTAMP")
        .ok()
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(0))
                .unwrap_or(0)
        });
    let payload = format!("timestamp={ts}&recvWindow=5000");
    let signature = sign(creds.secret.expose(), &payload);
    let key = creds.key.expose();
    let n = key.chars().count();
    let shown: String = key
        .chars()
        .take(4)
        .chain("…".chars())
        .chain(key.chars().skip(n.saturating_sub(4)))
        .collect();
    println!("bot: {}", creds.bot.as_deref().unwrap_or("(unknown)"));
    println!("GET https://api.binance.com/sapi/v1/account/apiRestrictions?{payload}&signature={signature}");
    println!("X-MBX-APIKEY: {shown}");
}

#[cfg(test)]
mod tests {
    use super::sign;

    // Binance's official example (binance-spot-api-docs, rest-api.md, "SIGNED Endpoint Examples"):
    // secretKey NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j,
    // payload symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559
    // signature c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71
    #[test]
    fn signs_binances_official_test_vector() {
        assert_eq!(
            sign(
                "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
                "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
            ),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
    }
}
