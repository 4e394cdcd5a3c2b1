//! Where the time of one default-parameter Argon2id derivation goes: allocating and zeroing
//! the 256 MiB matrix, filling it (the Argon2 work), and wiping it afterwards.

use std::time::Instant;

use zeroize::Zeroize;

fn main() {
    let blocks = 256 * 1024;
    let runs = 5;
    let (mut alloc, mut wipe, mut total) = (0f64, 0f64, 0f64);
    for _ in 0..runs {
        let t = Instant::now();
        let mut m: Vec<argon2::Block> = {
            use rayon::prelude::*;
            (0..blocks)
                .into_par_iter()
                .with_min_len(4096)
                .map(|_| argon2::Block::new())
                .collect()
        };
        alloc += t.elapsed().as_secs_f64();
        let t = Instant::now();
        m.zeroize();
        wipe += t.elapsed().as_secs_f64();
        drop(m);
        let t = Instant::now();
        vault_core::kdf::DEFAULT
            .derive(b"correct horse", b"saltsaltsaltsalt")
            .expect("derive");
        total += t.elapsed().as_secs_f64();
    }
    let ms = |x: f64| x * 1000.0 / f64::from(runs);
    println!("derive total {:.0} ms: allocate+zero 256 MiB {:.0} ms, wipe {:.0} ms, Argon2 fill {:.0} ms", ms(total), ms(alloc), ms(wipe), ms(total - alloc - wipe));
}
