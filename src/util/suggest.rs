//! "Did you mean …?": the closest name to a typo among the valid ones.

/// The candidate closest to `typo`, if it is close enough to be what the user meant.
pub fn closest<'a>(typo: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typo_l = typo.to_lowercase();
    let limit = (typo.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter_map(|c| {
            let c_l = c.to_lowercase();
            let d = if c_l == typo_l {
                0
            } else {
                distance(&typo_l, &c_l)
            };
            // A name that contains the typo (or the other way round) is a likely meaning too:
            // `email` for `emailaddress`, `username` for `user`.
            let contained = typo_l.len().min(c_l.len()) >= 4
                && (c_l.contains(&typo_l) || typo_l.contains(&c_l));
            (d <= limit || contained).then_some((d, c))
        })
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// neighbours each cost one (`frist` → `first` is one edit).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[n][m]
}

/// `, did you mean `x`?` or nothing, for appending to a message.
pub fn did_you_mean<'a>(typo: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(typo, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos() {
        let keys = ["first_name", "last_name", "email", "username"];
        assert_eq!(closest("frist_name", keys), Some("first_name"));
        assert_eq!(closest("emial", keys), Some("email"));
        assert_eq!(closest("usernme", keys), Some("username"));
        assert_eq!(closest("zzz", keys), None);
        assert_eq!(closest("undefined_fn", ["E", "PI", "range"]), None);
        assert_eq!(closest("user", keys), Some("username"));
        assert_eq!(distance("ab", "ba"), 1);
    }
}
