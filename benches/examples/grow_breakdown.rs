//! Where `vault list` spends its time on a big vault: read+checksum, unlock (MAC, age
//! decrypt, JSON parse), policy, drop; rounds alternate `VaultFile::read` (checksum first)
//! and `read_to_unlock` (checksum beside the MAC). `grow_breakdown VAULT STATE_DIR IDENTITY`.

use std::time::Instant;

use vault_core::{parse_identity_file, policy, OpenOptions, Unlock, VaultFile};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let id = parse_identity_file(&std::fs::read(&a[3]).expect("identity")).expect("identity");
    let rounds: usize = a.get(4).and_then(|s| s.parse().ok()).unwrap_or(3);
    for round in 0..rounds {
        let t = Instant::now();
        // `read_to_unlock` is what the CLI does: the checksum is hashed during the unlock.
        let f = if round % 2 == 0 {
            VaultFile::read(a[1].as_ref(), OpenOptions::new(&a[2]))
        } else {
            VaultFile::read_to_unlock(a[1].as_ref(), OpenOptions::new(&a[2]))
        }
        .expect("read");
        let t_read = t.elapsed();
        let v = f.unlock(Unlock::Identity(&id)).expect("unlock");
        let t_unlock = t.elapsed();
        let now = jiff::Timestamp::now();
        let n: usize = v.bots().map(|b| policy::evaluate(b, now).len()).sum();
        let t_policy = t.elapsed();
        drop(v);
        drop(f);
        let t_drop = t.elapsed();
        println!(
            "round {round} ({}): read {:?}, unlock {:?}, policy {:?} ({n} findings), drop {:?}",
            if round % 2 == 0 {
                "read"
            } else {
                "read_to_unlock"
            },
            t_read,
            t_unlock - t_read,
            t_policy - t_unlock,
            t_drop - t_policy
        );
    }
}
