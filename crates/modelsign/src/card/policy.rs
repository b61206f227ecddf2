//! `--require` policies on a card's signed metrics: `accuracy>=0.90`, optionally narrowed to
//! a dataset and split with `@`: `accuracy@squad>=0.9`, `f1@squad:validation>0.8`. Every
//! metric of the card that the policy names must satisfy it; a card without such a metric
//! fails the policy.

use std::fmt;

use super::{metric_key, Metric, ModelCard};
use crate::error::CardError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    AtLeast,
    AtMost,
    Equal,
    NotEqual,
    Above,
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

/// One `--require` policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub metric: String,
    pub dataset: Option<String>,
    pub split: Option<String>,
    pub comparison: Comparison,
    pub threshold: f64,
}

/// A policy evaluated on a card.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyOutcome {
    pub policy: String,
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
    /// Parses `metric[@dataset[:split]] OP number`, OP one of `>= <= == != > <`.
    pub fn parse(text: &str) -> Result<Self, CardError> {
        let bad = |reason: &str| CardError::Policy(format!("'{text}': {reason}"));
        // Two-character operators first, so `>=` is not read as `>`.
        const OPERATORS: [(&str, Comparison); 6] = [
            (">=", Comparison::AtLeast),
            ("<=", Comparison::AtMost),
            ("==", Comparison::Equal),
            ("!=", Comparison::NotEqual),
            (">", Comparison::Above),
            ("<", Comparison::Below),
        ];
        let (at, symbol, comparison) = OPERATORS
            .iter()
            .filter_map(|(symbol, comparison)| {
                text.find(symbol).map(|at| (at, *symbol, *comparison))
            })
            .min_by_key(|(at, symbol, _)| (*at, std::cmp::Reverse(symbol.len())))
            .ok_or_else(|| bad("expected METRIC OP VALUE with OP one of >=, <=, ==, !=, >, <"))?;
        let name = text[..at].trim();
        let threshold: f64 = text[at + symbol.len()..]
            .trim()
            .parse()
            .map_err(|_| bad("the value after the operator is not a number"))?;
        if !threshold.is_finite() {
            return Err(bad("the value must be a finite number"));
        }
        let (metric, qualifier) = match name.split_once('@') {
            Some((metric, qualifier)) => (metric.trim(), Some(qualifier.trim())),
            None => (name, None),
        };
        if metric.is_empty() {
            return Err(bad("no metric name before the operator"));
        }
        let (dataset, split) = match qualifier {
            Some(q) => match q.rsplit_once(':') {
                Some((dataset, split)) => (Some(dataset.to_owned()), Some(split.to_owned())),
                None => (Some(q.to_owned()), None),
            },
            None => (None, None),
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
