//! Dense Gaussian elimination with partial pivoting: the independent
//! reference the crossbar tests check the structured solver against.

/// Solves `a x = b`; panics on a singular matrix (a broken test setup).
pub fn gauss(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for k in 0..n {
        let p = (k..n)
            .max_by(|&x, &y| a[x][k].abs().total_cmp(&a[y][k].abs()))
            .unwrap();
        a.swap(k, p);
        b.swap(k, p);
        assert!(a[k][k] != 0.0, "reference matrix singular");
        let (top, rest) = a.split_at_mut(k + 1);
        let pivot = &top[k];
        let bk = b[k];
        for (row, bi) in rest.iter_mut().zip(&mut b[k + 1..]) {
            let f = row[k] / pivot[k];
            if f != 0.0 {
                for (x, q) in row[k..].iter_mut().zip(&pivot[k..]) {
                    *x -= f * q;
                }
                *bi -= f * bk;
            }
        }
    }
    let mut x = vec![0.0; n];
    for k in (0..n).rev() {
        let s: f64 = (k + 1..n).map(|j| a[k][j] * x[j]).sum();
        x[k] = (b[k] - s) / a[k][k];
    }
    x
}
