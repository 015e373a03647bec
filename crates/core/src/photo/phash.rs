//! 64-bit DCT perceptual hash: grey, box-averaged to 32×32, 2-D DCT, the 8×8 lowest
//! frequencies compared with their median. Re-encodes and mild edits move a few bits; a
//! different picture moves about half.

use std::sync::LazyLock;

const N: usize = 32;
const K: usize = 8;

/// cos((2x+1)uπ / 2N) for u < K, x < N.
static COS: LazyLock<[[f32; N]; K]> = LazyLock::new(|| {
    let mut t = [[0f32; N]; K];
    for (u, row) in t.iter_mut().enumerate() {
        for (x, v) in row.iter_mut().enumerate() {
            *v = (((2 * x + 1) as f32) * (u as f32) * std::f32::consts::PI / (2.0 * N as f32)).cos();
        }
    }
    t
});

/// Hash of a grey image of `width`×`height`.
pub fn phash(grey: &[u8], width: usize, height: usize) -> u64 {
    // Box-average into N×N cells (each source pixel lands in exactly one cell).
    // Box-average into N×N cells: each cell sums a run of each of its rows, so the inner loop
    // is a plain slice sum.
    let xs: [usize; N + 1] = std::array::from_fn(|i| i * width / N);
    let ys: [usize; N + 1] = std::array::from_fn(|i| i * height / N);
    let mut a = [[0f32; N]; N];
    for cy in 0..N {
        let mut sums = [0u32; N];
        for y in ys[cy]..ys[cy + 1] {
            let row = &grey[y * width..(y + 1) * width];
            for cx in 0..N {
                sums[cx] += row[xs[cx]..xs[cx + 1]].iter().map(|&g| u32::from(g)).sum::<u32>();
            }
        }
        for cx in 0..N {
            let n = ((xs[cx + 1] - xs[cx]) * (ys[cy + 1] - ys[cy])).max(1);
            a[cy][cx] = sums[cx] as f32 / n as f32;
        }
    }
    // tmp = C · A (K×N), out = tmp · Cᵀ (K×K).
    let c = &*COS;
    let mut tmp = [[0f32; N]; K];
    for u in 0..K {
        for x in 0..N {
            tmp[u][x] = (0..N).map(|y| c[u][y] * a[y][x]).sum();
        }
    }
    let mut coef = [0f32; K * K];
    for u in 0..K {
        for v in 0..K {
            coef[u * K + v] = (0..N).map(|x| tmp[u][x] * c[v][x]).sum();
        }
    }
    // The median ignores the DC term, which only says how bright the picture is.
    let mut sorted = [0f32; K * K - 1];
    sorted.copy_from_slice(&coef[1..]);
    sorted.sort_unstable_by(f32::total_cmp);
    let median = sorted[sorted.len() / 2];
    coef.iter().enumerate().fold(0u64, |h, (i, &v)| if v > median { h | (1 << i) } else { h })
}

pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}
