//! Model-drift statistics: is this run's output distributed like the baseline's?
//!
//! Pure functions over plain numbers, so the engine can call them on columns it has already collected and the
//! report can draw from them; nothing here touches frames, IO or terminals.
//!
//! - [`ks_two_sample`]: the two-sample Kolmogorov–Smirnov test for a numeric output (a score, an amount).
//! - [`chi_square_mix`]: the chi-square test of homogeneity for a category mix (the action mix).
//! - [`psi`]: the population stability index of two mixes, the number a reviewer is used to reading.
//! - [`histogram`]: equal-width shares, for the report's current-vs-baseline picture.
//!
//! # Where the distributions come from
//!
//! The chi-square p-value is `statrs`' [`ChiSquared`] survival function (a maintained crate; its regularised
//! incomplete gamma is accurate far into the tail, which a hand-written one would have to prove).
//!
//! The KS p-value is computed here, from the asymptotic Kolmogorov distribution with Stephens' small-sample
//! correction, as in Numerical Recipes (`probks`) and scipy's `ks_2samp(method='asymp')` before scipy 1.5 (later
//! scipy evaluates the exact one-sample distribution at `round(en)` instead; the two agree to a few units in the
//! third decimal for the sample sizes a pipeline run has):
//!
//! ```text
//! en = n·m / (n + m)
//! λ  = (√en + 0.12 + 0.11/√en) · D
//! Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} exp(−2k²λ²), clamped to [0, 1]
//! ```
//!
//! Why not a crate: statrs has no public Kolmogorov distribution. statrs 0.19 does ship
//! `stats_tests::ks_test::ks_twosample`, but it needs the `std` feature, allocates a third merged and
//! de-duplicated copy of both samples, applies no small-sample correction, and its series loop stops only when
//! a term falls below 1e-10, which never happens when D = 0 (two identical samples: every term is 1; checked,
//! statrs 0.19.1 on `[1, 2, 3]` vs `[1, 2, 3]` does not return). A search
//! of the docs for a maintained crate with the Kolmogorov distribution found only unmaintained or barely used
//! ones (`kolmogorov_smirnov`, last released 2015; `statest`, built on a statrs API since removed; `stats-claw` 0.1.0).
//!
//! # Cost
//!
//! [`ks_two_sample`] runs on up to about a million values per side inside a pipeline run: it sorts one copy of
//! each sample (O(n log n)) and walks the two in a single merge pass; it allocates nothing else.

use std::collections::BTreeMap;

use statrs::distribution::{ChiSquared, ContinuousCDF};

/// The outcome of a two-sample drift test.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DriftTest {
    /// "ks" or "chi_square".
    pub test: String,
    /// The test statistic (KS: D; chi-square: X²).
    pub statistic: f64,
    /// The p-value in [0, 1].
    pub p_value: f64,
    /// Sample sizes: (current, baseline).
    pub n: (u64, u64),
    /// Degrees of freedom (chi-square only; 0 for KS).
    pub dof: u32,
}

/// Two-sample Kolmogorov–Smirnov test of `current` against `baseline` (NaN values ignored). Samples need not be
/// sorted.
///
/// D is the largest gap between the two empirical CDFs; tied values (within a side or across sides) are passed
/// on both sides before the gap is measured, so ties never inflate D. The p-value is the asymptotic Kolmogorov
/// distribution with Stephens' correction (see the module docs).
///
/// Returns None when either sample is empty (after dropping NaNs).
pub fn ks_two_sample(current: &[f64], baseline: &[f64]) -> Option<DriftTest> {
    let a = sorted_without_nan(current);
    let b = sorted_without_nan(baseline);
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return None;
    }

    // Gap in integer units: |i/n − j/m| = |i·m − j·n| / (n·m). Kept exact, divided once at the end.
    let (mut i, mut j) = (0usize, 0usize);
    let mut widest: u128 = 0;
    while i < n && j < m {
        let x = if a[i] <= b[j] { a[i] } else { b[j] };
        while i < n && a[i] == x {
            i += 1;
        }
        while j < m && b[j] == x {
            j += 1;
        }
        let gap = (i as u128 * m as u128).abs_diff(j as u128 * n as u128);
        widest = widest.max(gap);
    }
    // Once one side is exhausted its ECDF is 1 and the other's only rises towards 1: the gap only shrinks.

    let d = widest as f64 / (n as f64 * m as f64);
    let en = (n as f64 * m as f64) / (n as f64 + m as f64);
    let root = en.sqrt();
    let lambda = (root + 0.12 + 0.11 / root) * d;
    Some(DriftTest {
        test: "ks".to_string(),
        statistic: d,
        p_value: kolmogorov_q(lambda),
        n: (n as u64, m as u64),
        dof: 0,
    })
}

/// A sorted copy of `values` without NaNs (the one allocation per side the KS test makes).
fn sorted_without_nan(values: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    out.sort_unstable_by(f64::total_cmp);
    out
}

/// The Kolmogorov survival function Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} exp(−2k²λ²), clamped to [0, 1].
///
/// Below λ = 0.2 the series converges slowly while Q differs from 1 by less than 1e-12
/// (1 − Q(λ) ≈ √(2π)/λ · exp(−π²/(8λ²))), so 1 is returned. From 0.2 up the terms fall under 1e-17 by k ≈ 23;
/// the loop stops when a term no longer changes the sum.
fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let minus_two_l2 = -2.0 * lambda * lambda;
    let mut sum = 0.0;
    let mut sign = 1.0;
    for k in 1..=100u32 {
        let k = f64::from(k);
        let term = (minus_two_l2 * k * k).exp();
        sum += sign * term;
        if term <= f64::EPSILON * sum.abs() {
            break;
        }
        sign = -sign;
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// The categories both mixes are compared on, with their counts (current, baseline): the union of the keys, a
/// key missing on one side counting 0 there, and categories with a zero total dropped.
fn aligned(current: &BTreeMap<String, u64>, baseline: &BTreeMap<String, u64>) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for key in current.keys().chain(baseline.keys().filter(|k| !current.contains_key(*k))) {
        let c = current.get(key).copied().unwrap_or(0);
        let b = baseline.get(key).copied().unwrap_or(0);
        if c + b > 0 {
            out.push((c, b));
        }
    }
    out
}

/// Chi-square test of homogeneity of two category mixes (e.g. the action mix): `current` and `baseline` map a
/// category to its count. Categories present in only one side count as 0 on the other. Categories with a zero
/// total are dropped.
///
/// X² = Σ (O − E)² / E over the 2×k table, with E = row total · column total / N; k − 1 degrees of freedom;
/// the p-value is statrs' chi-square survival function.
///
/// Returns None when either side has no rows or fewer than two categories remain (p = 1 is then meaningless).
pub fn chi_square_mix(current: &BTreeMap<String, u64>, baseline: &BTreeMap<String, u64>) -> Option<DriftTest> {
    let cells = aligned(current, baseline);
    let rows: (u64, u64) = cells.iter().fold((0, 0), |(c, b), &(x, y)| (c + x, b + y));
    if rows.0 == 0 || rows.1 == 0 || cells.len() < 2 {
        return None;
    }
    let total = (rows.0 + rows.1) as f64;
    let (row_c, row_b) = (rows.0 as f64, rows.1 as f64);
    let statistic: f64 = cells
        .iter()
        .map(|&(c, b)| {
            let column = (c + b) as f64;
            let (expect_c, expect_b) = (row_c * column / total, row_b * column / total);
            (c as f64 - expect_c).powi(2) / expect_c + (b as f64 - expect_b).powi(2) / expect_b
        })
        .sum();
    let dof = u32::try_from(cells.len() - 1).unwrap_or(u32::MAX);
    // dof >= 1, so the distribution always exists.
    let p_value = ChiSquared::new(f64::from(dof)).map(|dist| dist.sf(statistic)).unwrap_or(f64::NAN).clamp(0.0, 1.0);
    Some(DriftTest { test: "chi_square".to_string(), statistic, p_value, n: rows, dof })
}

/// Share floor for [`psi`]: a category absent on one side would make ln(p/q) infinite; 1e-4 is the usual
/// floor in credit-risk practice, so a vanished category weighs heavily but finitely.
const PSI_FLOOR: f64 = 1e-4;

/// Population stability index of two mixes (same category rules as [`chi_square_mix`]), for the report; 0 when
/// identical.
///
/// PSI = Σ (p − q) · ln(p / q) over the shares p (current) and q (baseline), each floored at 1e-4 so a category
/// on one side only counts finitely. Each term is ≥ 0, so any difference in shares gives a positive PSI.
/// Returns 0 when either side has no rows (there is nothing to compare; [`chi_square_mix`] returns None then).
pub fn psi(current: &BTreeMap<String, u64>, baseline: &BTreeMap<String, u64>) -> f64 {
    let cells = aligned(current, baseline);
    let rows: (u64, u64) = cells.iter().fold((0, 0), |(c, b), &(x, y)| (c + x, b + y));
    if rows.0 == 0 || rows.1 == 0 {
        return 0.0;
    }
    cells
        .iter()
        .map(|&(c, b)| {
            let p = (c as f64 / rows.0 as f64).max(PSI_FLOOR);
            let q = (b as f64 / rows.1 as f64).max(PSI_FLOOR);
            (p - q) * (p / q).ln()
        })
        .sum()
}

/// Equal-width histogram of `values` over [lo, hi] with `bins` bins, as shares summing to 1 (values outside
/// are clamped into the edge bins; empty input gives all zeros). The report draws current vs baseline from it.
///
/// Bins are half-open `[edge, next edge)` except the last, which also takes `hi`. NaN values are ignored (as in
/// [`ks_two_sample`]). A degenerate range (`hi <= lo`, or not finite) puts every value in the first bin.
/// `bins == 0` gives an empty vector.
pub fn histogram(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<f64> {
    let mut counts = vec![0u64; bins];
    if bins == 0 {
        return Vec::new();
    }
    let width = (hi - lo) / bins as f64;
    let usable = width.is_finite() && width > 0.0;
    let mut total = 0u64;
    for &v in values.iter().filter(|v| !v.is_nan()) {
        let index = if usable {
            // `as usize` saturates: below lo (negative) gives 0, far above hi gives usize::MAX.
            (((v - lo) / width).floor().max(0.0) as usize).min(bins - 1)
        } else {
            0
        };
        counts[index] += 1;
        total += 1;
    }
    if total == 0 {
        return vec![0.0; bins];
    }
    counts.into_iter().map(|c| c as f64 / total as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// splitmix64: a tiny deterministic generator, so the samples are the same on every machine.
    struct SplitMix(u64);

    impl SplitMix {
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform on (0, 1): 53 random bits, offset by half a step so 0 never comes out (ln(0) below).
        fn uniform(&mut self) -> f64 {
            ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }

        /// Standard normal by Box–Muller (the cosine half; the sine half is dropped for simplicity).
        fn normal(&mut self) -> f64 {
            let (u1, u2) = (self.uniform(), self.uniform());
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        }
    }

    fn normals(seed: u64, count: usize, shift: f64) -> Vec<f64> {
        let mut rng = SplitMix(seed);
        (0..count).map(|_| rng.normal() + shift).collect()
    }

    fn mix(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|&(k, v)| (k.to_string(), v)).collect()
    }

    #[test]
    fn ks_same_distribution_is_not_flagged() {
        let current = normals(1, 5_000, 0.0);
        let baseline = normals(2, 5_000, 0.0);
        let t = ks_two_sample(&current, &baseline).unwrap();
        assert_eq!(t.test, "ks");
        assert_eq!(t.n, (5_000, 5_000));
        assert_eq!(t.dof, 0);
        // For these seeds D = 80/5000 and Q(λ = 50.1222 · 0.016) = 0.54096456398963… (the series in Python).
        assert_eq!(t.statistic, 0.016);
        assert!((t.p_value - 0.540_964_563_989_631_7).abs() < 1e-9, "{t:?}");
        assert!(t.p_value > 0.2, "{t:?}");
    }

    #[test]
    fn ks_flags_a_shift_of_a_tenth_of_a_standard_deviation() {
        let current = normals(3, 20_000, 0.1);
        let baseline = normals(4, 20_000, 0.0);
        let t = ks_two_sample(&current, &baseline).unwrap();
        // Φ(0.05) − Φ(−0.05) ≈ 0.04 is the population gap; these seeds give D = 0.0441, p ≈ 2.3e-17.
        assert_eq!(t.statistic, 0.0441);
        assert!(t.p_value < 0.01, "{t:?}");
    }

    #[test]
    fn ks_flags_a_shift_of_half_a_standard_deviation_decisively() {
        let current = normals(5, 20_000, 0.5);
        let baseline = normals(6, 20_000, 0.0);
        let t = ks_two_sample(&current, &baseline).unwrap();
        assert!(t.p_value < 1e-10, "{t:?}");
    }

    #[test]
    fn ks_runs_on_a_million_values_per_side() {
        // The pipeline's scale: a quadratic walk would not finish. Rounded to 3 decimals, so runs of ties are long.
        let current: Vec<f64> = normals(8, 1_000_000, 0.0).iter().map(|v| (v * 1e3).round() / 1e3).collect();
        let baseline: Vec<f64> = normals(9, 1_000_000, 0.0).iter().map(|v| (v * 1e3).round() / 1e3).collect();
        let t = ks_two_sample(&current, &baseline).unwrap();
        assert_eq!(t.n, (1_000_000, 1_000_000));
        assert!(t.statistic < 0.01, "{t:?}");
    }

    #[test]
    fn ks_small_case_matches_hand_computed_d_and_p() {
        // ECDFs of [1..5] and [3..7] after 1, 2: 0.2/0, 0.4/0; after 3, 4, 5: 0.6/0.2, 0.8/0.4, 1.0/0.6 → D = 0.4.
        // en = 25/10 = 2.5, λ = (√2.5 + 0.12 + 0.11/√2.5) · 0.4 = 0.708283575443…, Q(λ) = 0.697404878020…
        // (the series summed to 200 terms in double precision; scipy < 1.5's asymp mode gives the same).
        let t = ks_two_sample(&[5.0, 1.0, 4.0, 2.0, 3.0], &[7.0, 3.0, 6.0, 4.0, 5.0]).unwrap();
        assert_eq!(t.statistic, 0.4);
        assert!((t.p_value - 0.697_404_878_020_590_8).abs() < 1e-12, "{t:?}");
        assert_eq!(t.n, (5, 5));
    }

    #[test]
    fn ks_ties_across_samples_do_not_inflate_d() {
        // Passing one side's run of zeros before the other's would show a gap of 1.
        let t = ks_two_sample(&[0.0, 0.0, 0.0], &[0.0, 0.0, 0.0]).unwrap();
        assert_eq!(t.statistic, 0.0);
        assert_eq!(t.p_value, 1.0);
        // ECDFs at 1: 2/4 vs 1/4; at 2: 1 vs 1 → D = 0.25 (not 0.5 from stepping through ties one side at a time).
        let t = ks_two_sample(&[1.0, 2.0, 1.0, 2.0], &[2.0, 1.0, 2.0, 2.0]).unwrap();
        assert_eq!(t.statistic, 0.25);
    }

    #[test]
    fn ks_ignores_nan_and_needs_both_samples() {
        let t = ks_two_sample(&[1.0, f64::NAN, 2.0], &[1.0, 2.0]).unwrap();
        assert_eq!(t.n, (2, 2));
        assert_eq!(t.statistic, 0.0);
        assert_eq!(ks_two_sample(&[], &[1.0]), None);
        assert_eq!(ks_two_sample(&[1.0], &[f64::NAN]), None);
    }

    #[test]
    fn kolmogorov_q_is_a_survival_function() {
        assert_eq!(kolmogorov_q(0.0), 1.0);
        assert_eq!(kolmogorov_q(0.1), 1.0);
        // Q(1) = 2(e^-2 − e^-8 + e^-18 − …) = 0.26999967167735…
        assert!((kolmogorov_q(1.0) - 0.269_999_671_677_355_3).abs() < 1e-12);
        assert!(kolmogorov_q(0.2) > kolmogorov_q(0.5));
        assert!(kolmogorov_q(0.5) > kolmogorov_q(1.0));
        assert!(kolmogorov_q(10.0) < 1e-80);
    }

    #[test]
    fn chi_square_identical_mixes_give_zero_and_p_one() {
        let m = mix(&[("keep", 700), ("raise", 200), ("cut", 100)]);
        let t = chi_square_mix(&m, &m).unwrap();
        assert_eq!(t.statistic, 0.0);
        assert_eq!(t.p_value, 1.0);
        assert_eq!(t.dof, 2);
        assert_eq!(t.n, (1_000, 1_000));
    }

    #[test]
    fn chi_square_two_by_two_matches_hand_computation() {
        // Table: current a 30, b 70; baseline a 50, b 50. N = 200, column totals a 80, b 120, rows 100 each.
        // Expected per row: a 40, b 60. X² = 2·(10²/40) + 2·(10²/60) = 5 + 10/3 = 25/3; dof = 1.
        // For one dof the survival function is erfc(√(x/2)): erfc(√(25/6)) = 0.0038924171227786…
        let t = chi_square_mix(&mix(&[("a", 30), ("b", 70)]), &mix(&[("a", 50), ("b", 50)])).unwrap();
        assert_eq!(t.test, "chi_square");
        assert!((t.statistic - 25.0 / 3.0).abs() < 1e-12, "{t:?}");
        assert_eq!(t.dof, 1);
        assert_eq!(t.n, (100, 100));
        let sf = ChiSquared::new(1.0).unwrap().sf(25.0 / 3.0);
        assert!((t.p_value - sf).abs() < 1e-12, "{t:?}");
        assert!((t.p_value - 0.003_892_417_122_778_627).abs() < 1e-9, "{t:?}");
    }

    #[test]
    fn chi_square_flags_a_five_point_shift_on_ten_thousand_rows() {
        let baseline = mix(&[("keep", 6_000), ("raise", 2_500), ("cut", 1_500)]);
        let shifted = mix(&[("keep", 5_500), ("raise", 3_000), ("cut", 1_500)]);
        let t = chi_square_mix(&shifted, &baseline).unwrap();
        assert!(t.p_value < 0.01, "{t:?}");
        // The same shares on a different number of rows are not drift.
        let same = mix(&[("keep", 12_000), ("raise", 5_000), ("cut", 3_000)]);
        let t = chi_square_mix(&same, &baseline).unwrap();
        assert!(t.p_value > 0.5, "{t:?}");
        assert!(t.statistic.abs() < 1e-9, "{t:?}");
    }

    #[test]
    fn chi_square_counts_a_category_missing_on_one_side_as_zero() {
        // Current has no "cut"; baseline has no "hold". Both stay in the table: 4 categories, 3 dof.
        let current = mix(&[("keep", 50), ("raise", 40), ("hold", 10)]);
        let baseline = mix(&[("keep", 50), ("raise", 40), ("cut", 10)]);
        let t = chi_square_mix(&current, &baseline).unwrap();
        assert_eq!(t.dof, 3);
        // keep and raise match exactly; hold and cut each contribute 2·(5²/5) = 10.
        assert!((t.statistic - 20.0).abs() < 1e-12, "{t:?}");
        // A category with a zero total is dropped, not counted as a degree of freedom.
        let with_empty = mix(&[("keep", 50), ("raise", 40), ("hold", 10), ("never", 0)]);
        assert_eq!(chi_square_mix(&with_empty, &baseline).unwrap().dof, 3);
    }

    #[test]
    fn chi_square_needs_rows_on_both_sides_and_two_categories() {
        let m = mix(&[("keep", 10), ("raise", 5)]);
        assert_eq!(chi_square_mix(&BTreeMap::new(), &m), None);
        assert_eq!(chi_square_mix(&m, &mix(&[("keep", 0)])), None);
        assert_eq!(chi_square_mix(&mix(&[("keep", 3)]), &mix(&[("keep", 9)])), None);
    }

    #[test]
    fn psi_is_zero_for_identical_mixes_and_positive_otherwise() {
        let m = mix(&[("keep", 700), ("raise", 200), ("cut", 100)]);
        assert_eq!(psi(&m, &m), 0.0);
        assert_eq!(psi(&m, &mix(&[("keep", 70), ("raise", 20), ("cut", 10)])), 0.0);
        let shifted = mix(&[("keep", 650), ("raise", 250), ("cut", 100)]);
        // (0.65−0.7)·ln(0.65/0.7) + (0.25−0.2)·ln(0.25/0.2) = 0.0037054… + 0.0111572… = 0.0148626…
        let value = psi(&shifted, &m);
        assert!((value - 0.014_862_6).abs() < 1e-6, "{value}");
        // A category on one side only is floored, not infinite.
        let extra = psi(&mix(&[("keep", 10), ("new", 10)]), &mix(&[("keep", 20)]));
        assert!(extra.is_finite() && extra > 0.0, "{extra}");
        assert_eq!(psi(&BTreeMap::new(), &m), 0.0);
    }

    #[test]
    fn histogram_shares_sum_to_one_and_clamp_out_of_range_values() {
        let shares = histogram(&[-5.0, 0.0, 0.1, 0.5, 0.99, 1.0, 7.0, f64::NAN], 0.0, 1.0, 4);
        // Bins [0,.25) [.25,.5) [.5,.75) [.75,1]: -5, 0, 0.1 | — | 0.5 | 0.99, 1.0, 7 → 3, 0, 1, 3 of 7.
        assert_eq!(shares, vec![3.0 / 7.0, 0.0, 1.0 / 7.0, 3.0 / 7.0]);
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let normal = histogram(&normals(7, 10_000, 0.0), -3.0, 3.0, 12);
        assert_eq!(normal.len(), 12);
        assert!((normal.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // The middle bins hold more than the edge bins.
        assert!(normal[5] > normal[0] && normal[6] > normal[11]);
    }

    #[test]
    fn histogram_of_nothing_is_all_zeros() {
        assert_eq!(histogram(&[], 0.0, 1.0, 3), vec![0.0; 3]);
        assert_eq!(histogram(&[f64::NAN], 0.0, 1.0, 2), vec![0.0; 2]);
        assert_eq!(histogram(&[1.0], 0.0, 1.0, 0), Vec::<f64>::new());
        assert_eq!(histogram(&[1.0, 2.0], 3.0, 3.0, 2), vec![1.0, 0.0]);
    }
}
