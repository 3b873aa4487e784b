//! Conditions (`Ready`, `Progressing`, `Degraded`, `Paused`) computed from what a reconcile observed.
//! Pure: the time is passed in, so tests pin it.

use ff_crds::common::condition::{DEGRADED, PAUSED, PROGRESSING, READY};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// One condition's value: status, CamelCase reason, human message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub status: bool,
    pub reason: String,
    pub message: String,
}

impl State {
    pub fn yes(reason: &str, message: impl Into<String>) -> Self {
        State {
            status: true,
            reason: reason.into(),
            message: message.into(),
        }
    }

    pub fn no(reason: &str, message: impl Into<String>) -> Self {
        State {
            status: false,
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// What a reconcile concluded about a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub ready: State,
    pub progressing: State,
    pub degraded: State,
}

impl Outcome {
    /// Everything is as asked.
    pub fn ready(message: impl Into<String>) -> Self {
        Outcome {
            ready: State::yes("Ready", message),
            progressing: State::no("Stable", "nothing is changing"),
            degraded: State::no("AsExpected", "no problem observed"),
        }
    }

    /// Changes are being rolled out.
    pub fn progressing(reason: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Outcome {
            ready: State::no(reason, message.clone()),
            progressing: State::yes(reason, message),
            degraded: State::no("AsExpected", "no problem observed"),
        }
    }

    /// Something is wrong that the operator cannot fix by itself (invalid spec, missing dependency,
    /// refused change): not ready, degraded, with the reason.
    pub fn failed(reason: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Outcome {
            ready: State::no(reason, message.clone()),
            progressing: State::no(
                reason,
                "waiting for a change of the spec or of a dependency",
            ),
            degraded: State::yes(reason, message),
        }
    }
}

impl Outcome {
    /// A dependency of the resource is missing (`DependencyMissing`: degraded, a user must act) or not
    /// ready yet (`WaitingForDependencies`: progressing).
    pub fn waiting(missing: bool, why: String) -> Self {
        if missing {
            Outcome::failed("DependencyMissing", why)
        } else {
            Outcome::progressing("WaitingForDependencies", why)
        }
    }
}

/// The new condition list: every standard condition set from `outcome` and `paused`, keeping
/// `lastTransitionTime` of the conditions whose status did not change, and any foreign condition.
pub fn merge(
    previous: &[Condition],
    outcome: &Outcome,
    paused: bool,
    generation: Option<i64>,
    now: &Time,
) -> Vec<Condition> {
    let paused_state = if paused {
        State::yes(
            "Paused",
            format!(
                "annotation {}=true: children are not changed",
                ff_crds::PAUSED_ANNOTATION
            ),
        )
    } else {
        State::no("Reconciling", "children follow the spec")
    };
    let mut out: Vec<Condition> = previous
        .iter()
        .filter(|c| ![READY, PROGRESSING, DEGRADED, PAUSED].contains(&c.type_.as_str()))
        .cloned()
        .collect();
    for (type_, state) in [
        (READY, &outcome.ready),
        (PROGRESSING, &outcome.progressing),
        (DEGRADED, &outcome.degraded),
        (PAUSED, &paused_state),
    ] {
        let status = if state.status { "True" } else { "False" };
        let last = previous
            .iter()
            .find(|c| c.type_ == type_ && c.status == status)
            .map(|c| c.last_transition_time.clone());
        out.push(Condition {
            type_: type_.into(),
            status: status.into(),
            reason: state.reason.clone(),
            message: state.message.clone(),
            observed_generation: generation,
            last_transition_time: last.unwrap_or_else(|| now.clone()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Time {
        Time(jiff::Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn transition_time_moves_only_when_the_status_changes() {
        let first = merge(
            &[],
            &Outcome::progressing("Creating", "creating"),
            false,
            Some(1),
            &at(10),
        );
        assert_eq!(first.len(), 4);
        let ready = |c: &[Condition]| c.iter().find(|c| c.type_ == READY).cloned().unwrap();
        assert_eq!(ready(&first).status, "False");
        assert_eq!(ready(&first).last_transition_time, at(10));

        // still not ready, other reason: the transition time stays
        let second = merge(
            &first,
            &Outcome::failed("Invalid", "bad"),
            false,
            Some(2),
            &at(20),
        );
        assert_eq!(ready(&second).last_transition_time, at(10));
        assert_eq!(ready(&second).reason, "Invalid");
        assert_eq!(ready(&second).observed_generation, Some(2));
        let degraded = second.iter().find(|c| c.type_ == DEGRADED).unwrap();
        assert_eq!(
            (
                degraded.status.as_str(),
                degraded.last_transition_time.clone()
            ),
            ("True", at(20))
        );

        // ready now: it moves
        let third = merge(&second, &Outcome::ready("ok"), true, Some(2), &at(30));
        assert_eq!(ready(&third).last_transition_time, at(30));
        assert_eq!(
            third.iter().find(|c| c.type_ == PAUSED).unwrap().status,
            "True"
        );
    }

    #[test]
    fn foreign_conditions_are_kept() {
        let foreign = Condition {
            type_: "BackupSucceeded".into(),
            status: "True".into(),
            reason: "Done".into(),
            message: String::new(),
            observed_generation: None,
            last_transition_time: at(1),
        };
        let merged = merge(
            std::slice::from_ref(&foreign),
            &Outcome::ready("ok"),
            false,
            None,
            &at(2),
        );
        assert!(merged.contains(&foreign));
        assert_eq!(merged.len(), 5);
    }
}
