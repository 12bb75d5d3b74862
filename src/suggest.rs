//! "Did you mean": the known name closest to a misspelt one, for every message about a name
//! tierbench does not know (fields, profiles, operations, metrics).
//!
//! A leaf module (it imports nothing of the crate) because `scenario` and `verdict` both name
//! unknown things and must suggest the same way.

/// ` (did you mean `x`?)` when a known name is close to `given`: at most a third of its letters
/// edited (transpositions count once), or `given` is the start of it (at least 3 letters:
/// `develop` for `development`); the closest first. Empty when nothing is close.
pub fn did_you_mean<S: AsRef<str>>(given: &str, known: &[S]) -> String {
    closest(given, known)
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default()
}

/// The known name closest to `given`, by the rule of [`did_you_mean`].
pub fn closest<'a, S: AsRef<str>>(given: &str, known: &'a [S]) -> Option<&'a str> {
    let prefix_of = |k: &str| given.chars().count() >= 3 && k.starts_with(given);
    known
        .iter()
        .map(AsRef::as_ref)
        .filter(|k| *k != given)
        .map(|k| (strsim::damerau_levenshtein(given, k), k))
        .filter(|(distance, k)| *distance <= (k.chars().count() / 3).max(1) || prefix_of(k))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_and_prefixes_are_suggested() {
        let known = ["development", "testing", "ci", "production"];
        assert_eq!(
            did_you_mean("developmnt", &known),
            " (did you mean `development`?)"
        );
        assert_eq!(
            did_you_mean("develop", &known),
            " (did you mean `development`?)"
        );
        assert_eq!(
            did_you_mean("prod", &known),
            " (did you mean `production`?)"
        );
        assert_eq!(did_you_mean("staging", &known), "");
        assert_eq!(did_you_mean("de", &known), "");
        let fields = ["max_entries", "thresholds", "engine"];
        assert_eq!(closest("max_entris", &fields), Some("max_entries"));
        assert_eq!(closest("threshold", &fields), Some("thresholds"));
    }
}
