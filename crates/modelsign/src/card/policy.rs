//! `--require` policies on a card's signed metrics: `accuracy>=0.90`, optionally narrowed to
//! a dataset and split with `@`: `accuracy@squad>=0.9`, `f1@squad:validation>0.8`. Every
//! metric of the card that the policy names must satisfy it; a card without such a metric
//! fails the policy.

use std::fmt;

use super::{metric_key, Metric, ModelCard};
use crate::error::CardError;

/// How a policy compares a metric's value with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Comparison {
    /// `>=`
    AtLeast,
    /// `<=`
    AtMost,
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
    /// `>`
    Above,
    /// `<`
    Below,
}

impl Comparison {
    fn symbol(self) -> &'static str {
        match self {
            Comparison::AtLeast => ">=",
            Comparison::AtMost => "<=",
            Comparison::Equal => "==",
            Comparison::NotEqual => "!=",
            Comparison::Above => ">",
            Comparison::Below => "<",
        }
    }

    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::AtLeast => value >= threshold,
            Comparison::AtMost => value <= threshold,
            Comparison::Equal => value == threshold,
            Comparison::NotEqual => value != threshold,
            Comparison::Above => value > threshold,
            Comparison::Below => value < threshold,
        }
    }
}

/// The accepted `--require` syntax, quoted in every parse error.
pub const POLICY_SYNTAX: &str = "expected METRIC OP VALUE with OP one of >= <= == != > <, the metric optionally narrowed as METRIC@DATASET or METRIC@DATASET:SPLIT (e.g. accuracy>=0.9, f1@squad:validation>0.8)";

/// Characters of the comparison operators, which no metric, dataset or split name holds.
const OPERATOR_CHARS: [char; 4] = ['<', '>', '=', '!'];

/// `metric@dataset[:split]` split at the `@` that ends the metric: metrics such as
/// `pass@1` hold an `@` themselves, so a known metric name with one is taken whole.
fn split_metric(name: &str) -> (&str, Option<&str>) {
    // Where the metric could end: the whole name, then each `@` after the first.
    let known_with_at = std::iter::once(name.len())
        .chain(name.match_indices('@').map(|(i, _)| i).skip(1))
        .filter(|&end| name[..end].contains('@'))
        .find(|&end| super::is_known_metric(&name[..end]));
    match known_with_at.or_else(|| name.find('@')) {
        Some(end) if end < name.len() => (name[..end].trim(), Some(name[end + 1..].trim())),
        _ => (name, None),
    }
}

/// One `--require` policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The metric it constrains (`accuracy`, `pass@1`, ...).
    pub metric: String,
    /// The dataset it is narrowed to (`@squad`), if any; otherwise results on every dataset
    /// must satisfy it.
    pub dataset: Option<String>,
    /// The split it is narrowed to (`@squad:validation`), if any.
    pub split: Option<String>,
    /// How the value is compared with the threshold.
    pub comparison: Comparison,
    /// The value the metric is compared with.
    pub threshold: f64,
}

/// A policy evaluated on a card.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyOutcome {
    /// The policy, written back in `--require` syntax.
    pub policy: String,
    /// True when every matching metric satisfies it (and there is at least one).
    pub holds: bool,
    /// What was found: the values compared, or why none could be.
    pub detail: String,
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.metric)?;
        if let Some(dataset) = &self.dataset {
            write!(f, "@{dataset}")?;
            if let Some(split) = &self.split {
                write!(f, ":{split}")?;
            }
        }
        write!(f, "{}{}", self.comparison.symbol(), self.threshold)
    }
}

impl Policy {
    /// Parses `metric[@dataset[:split]] OP number`, OP one of `>= <= == != > <`. Anything
    /// else is refused with what is wrong and the accepted syntax, so a typo is a usage
    /// error rather than a policy that silently fails (or holds) on a metric nobody has.
    pub fn parse(text: &str) -> Result<Self, CardError> {
        let bad = |reason: &str| {
            CardError::Policy(format!(
                "'{}': {reason}; {POLICY_SYNTAX}",
                crate::text::printable(text)
            ))
        };
        // Two-character operators first, so `>=` is not read as `>`.
        const OPERATORS: [(&str, Comparison); 6] = [
            (">=", Comparison::AtLeast),
            ("<=", Comparison::AtMost),
            ("==", Comparison::Equal),
            ("!=", Comparison::NotEqual),
            (">", Comparison::Above),
            ("<", Comparison::Below),
        ];
        for (wrong, right) in [("=>", ">="), ("=<", "<="), ("<>", "!=")] {
            if text.contains(wrong) {
                return Err(bad(&format!(
                    "'{wrong}' is not an operator (did you mean '{right}'?)"
                )));
            }
        }
        let Some((at, symbol, comparison)) = OPERATORS
            .iter()
            .filter_map(|(symbol, comparison)| {
                text.find(symbol).map(|at| (at, *symbol, *comparison))
            })
            .min_by_key(|(at, symbol, _)| (*at, std::cmp::Reverse(symbol.len())))
        else {
            let hint = if text.contains('=') {
                "no comparison operator ('=' alone is not one: use '==')"
            } else {
                "no comparison operator"
            };
            return Err(bad(hint));
        };
        let name = text[..at].trim();
        let value = text[at + symbol.len()..].trim();
        if value.is_empty() {
            return Err(bad("no value after the operator"));
        }
        if value.contains(OPERATOR_CHARS) {
            return Err(bad(&format!(
                "more than one operator ('{value}' follows '{symbol}')"
            )));
        }
        // The first operator is where the name ends, so an operator character left in the
        // name is a stray one (`accuracy= >=0.9`), which would print back as another
        // operator.
        if name.contains(OPERATOR_CHARS) {
            return Err(bad(&format!(
                "more than one operator ('{name}' precedes '{symbol}')"
            )));
        }
        let threshold: f64 = value
            .parse()
            .map_err(|_| bad(&format!("the value '{value}' is not a number")))?;
        if !threshold.is_finite() {
            return Err(bad("the value must be a finite number"));
        }
        if name.is_empty() {
            return Err(bad("no metric name before the operator"));
        }
        let (metric, qualifier) = split_metric(name);
        if metric.is_empty() {
            return Err(bad("no metric name before '@'"));
        }
        let (dataset, split) = match qualifier {
            None => (None, None),
            Some(q) => {
                let (dataset, split) = match q.rsplit_once(':') {
                    Some((dataset, split)) => (dataset.trim(), Some(split.trim())),
                    None => (q, None),
                };
                if dataset.is_empty() {
                    return Err(bad("no dataset name after '@'"));
                }
                if split.is_some_and(str::is_empty) {
                    return Err(bad("no split name after ':'"));
                }
                (Some(dataset.to_owned()), split.map(str::to_owned))
            }
        };
        Ok(Policy {
            metric: metric.to_owned(),
            dataset,
            split,
            comparison,
            threshold,
        })
    }

    fn applies_to(&self, metric: &Metric) -> bool {
        metric_key(&metric.metric) == metric_key(&self.metric)
            && self
                .dataset
                .as_ref()
                .is_none_or(|d| metric.dataset.as_deref() == Some(d.as_str()))
            && self
                .split
                .as_ref()
                .is_none_or(|s| metric.split.as_deref() == Some(s.as_str()))
    }

    /// Evaluates the policy on the card's metrics.
    pub fn evaluate(&self, card: &ModelCard) -> PolicyOutcome {
        let matching: Vec<&Metric> = card.metrics.iter().filter(|m| self.applies_to(m)).collect();
        if matching.is_empty() {
            let mut names: Vec<String> = card.metrics.iter().map(describe).collect();
            names.dedup();
            let has = if names.is_empty() {
                "the card has no metrics".to_owned()
            } else {
                format!("the card has: {}", names.join(", "))
            };
            return PolicyOutcome {
                policy: self.to_string(),
                holds: false,
                detail: format!(
                    "metric '{}' is missing from the card ({has})",
                    self.name_with_qualifier()
                ),
            };
        }
        let failing: Vec<&Metric> = matching
            .iter()
            .copied()
            .filter(|m| !self.comparison.holds(m.value, self.threshold))
            .collect();
        let holds = failing.is_empty();
        // Show the offending values when it fails, every compared value when it holds.
        let shown = if holds { matching } else { failing };
        let values: Vec<String> = shown
            .iter()
            .map(|m| format!("{} = {}", describe(m), m.value))
            .collect();
        PolicyOutcome {
            policy: self.to_string(),
            holds,
            detail: format!(
                "{} ({} {} required)",
                values.join("; "),
                self.comparison.symbol(),
                self.threshold
            ),
        }
    }

    fn name_with_qualifier(&self) -> String {
        let mut name = self.metric.clone();
        if let Some(dataset) = &self.dataset {
            name.push('@');
            name.push_str(dataset);
            if let Some(split) = &self.split {
                name.push(':');
                name.push_str(split);
            }
        }
        name
    }
}

fn describe(metric: &Metric) -> String {
    match (&metric.dataset, &metric.split) {
        (Some(d), Some(s)) => format!("{}@{d}:{s}", metric.metric),
        (Some(d), None) => format!("{}@{d}", metric.metric),
        _ => metric.metric.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> ModelCard {
        let metric = |name: &str, value: f64, dataset: &str, split: &str| Metric {
            metric: name.into(),
            value,
            dataset: Some(dataset.into()),
            split: Some(split.into()),
            ..Metric::default()
        };
        ModelCard {
            name: "m".into(),
            metrics: vec![
                metric("accuracy", 0.93, "imdb", "test"),
                metric("accuracy", 0.88, "sst2", "validation"),
                metric("f1", 0.91, "imdb", "test"),
            ],
            ..ModelCard::default()
        }
    }

    #[test]
    fn parses_every_operator_and_qualifier() {
        let p = Policy::parse("accuracy@imdb:test >= 0.9").unwrap();
        assert_eq!(p.metric, "accuracy");
        assert_eq!(p.dataset.as_deref(), Some("imdb"));
        assert_eq!(p.split.as_deref(), Some("test"));
        assert_eq!(p.comparison, Comparison::AtLeast);
        assert_eq!(p.threshold, 0.9);
        for (text, comparison) in [
            ("a<=1", Comparison::AtMost),
            ("a==1", Comparison::Equal),
            ("a!=1", Comparison::NotEqual),
            ("a>1", Comparison::Above),
            ("a<1", Comparison::Below),
        ] {
            assert_eq!(
                Policy::parse(text).unwrap().comparison,
                comparison,
                "{text}"
            );
        }
        for bad in ["accuracy", "accuracy>=high", ">=0.9", "accuracy>=inf"] {
            assert!(Policy::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn malformed_policies_are_refused_saying_what_is_wrong_and_the_syntax() {
        for (text, says) in [
            (
                "accuracy=>0.9",
                "'=>' is not an operator (did you mean '>='?)",
            ),
            ("accuracy=<0.9", "did you mean '<='?"),
            ("accuracy@>=0.9", "no dataset name after '@'"),
            ("accuracy@imdb:>=0.9", "no split name after ':'"),
            ("@imdb>=0.9", "no metric name before '@'"),
            (">=0.9", "no metric name before the operator"),
            ("accuracy>=", "no value after the operator"),
            ("accuracy>=high", "the value 'high' is not a number"),
            ("accuracy>==0.9", "more than one operator"),
            ("accuracy>=0.9>0.5", "more than one operator"),
            // Found by fuzzing: the name kept the '=' and printed back as `accuracy=>=0.9`.
            ("accuracy=  >=0.9", "more than one operator"),
            ("accuracy! >=0.9", "more than one operator"),
            ("accuracy=0.9", "'=' alone is not one: use '=='"),
            ("accuracy is high", "no comparison operator"),
            ("accuracy>=nan", "finite number"),
        ] {
            let error = Policy::parse(text).unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
            assert!(error.contains(POLICY_SYNTAX), "{text}: {error}");
        }
    }

    #[test]
    fn a_metric_whose_name_holds_an_at_sign_is_read_whole() {
        let p = Policy::parse("pass@1>=0.5").unwrap();
        assert_eq!((p.metric.as_str(), p.dataset), ("pass@1", None));
        let p = Policy::parse("pass@10@humaneval:test>=0.5").unwrap();
        assert_eq!(p.metric, "pass@10");
        assert_eq!(p.dataset.as_deref(), Some("humaneval"));
        assert_eq!(p.split.as_deref(), Some("test"));
        let p = Policy::parse("custom@set>1").unwrap();
        assert_eq!(
            (p.metric.as_str(), p.dataset.as_deref()),
            ("custom", Some("set"))
        );
    }

    #[test]
    fn every_matching_metric_must_hold() {
        let card = card();
        let all = Policy::parse("accuracy>=0.9").unwrap().evaluate(&card);
        assert!(!all.holds, "sst2 is 0.88: {}", all.detail);
        assert!(
            all.detail.contains("accuracy@sst2:validation = 0.88"),
            "{}",
            all.detail
        );
        assert!(
            Policy::parse("accuracy@imdb>=0.9")
                .unwrap()
                .evaluate(&card)
                .holds
        );
        assert!(
            Policy::parse("Accuracy@imdb:test>0.92")
                .unwrap()
                .evaluate(&card)
                .holds
        );
        assert!(!Policy::parse("f1<0.91").unwrap().evaluate(&card).holds);
        assert!(Policy::parse("f1==0.91").unwrap().evaluate(&card).holds);
    }

    #[test]
    fn a_missing_metric_fails_and_is_named() {
        let outcome = Policy::parse("bleu>=20").unwrap().evaluate(&card());
        assert!(!outcome.holds);
        assert!(
            outcome.detail.contains("metric 'bleu' is missing"),
            "{}",
            outcome.detail
        );
        assert!(
            outcome.detail.contains("accuracy@imdb:test"),
            "{}",
            outcome.detail
        );
        let outcome = Policy::parse("accuracy@squad>=0.5")
            .unwrap()
            .evaluate(&card());
        assert!(!outcome.holds);
        assert!(
            outcome.detail.contains("'accuracy@squad' is missing"),
            "{}",
            outcome.detail
        );
    }
}
