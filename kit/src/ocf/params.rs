//! The agent's parameters, defined once: [`PARAMS`] is the one table the meta-data XML, the
//! validation and the environment parsing (`OCF_RESKEY_<name>`) are generated from.

use std::time::Duration;

use super::OcfError;

/// A parameter's content type as `ra-api-1.dtd` knows it (`string|integer|boolean|time`; no
/// `select`: the DTD ocf-tester validates against rejects it — allowed values are listed in the
/// long description and checked by [`Param::check`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// Free text.
    String,
    /// A whole number.
    Integer,
    /// yes/no (the spellings `ocf_is_true` accepts).
    Boolean,
    /// A duration: seconds, or with a unit (`500ms`, `5s`, `1min`).
    Time,
}

impl ParamType {
    /// The name in the meta-data.
    pub fn name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Boolean => "boolean",
            ParamType::Time => "time",
        }
    }
}

/// One parameter of the agent.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Its name (the environment has it as `OCF_RESKEY_<name>`).
    pub name: &'static str,
    /// Content type.
    pub kind: ParamType,
    /// Default when unset or empty.
    pub default: Option<&'static str>,
    /// Required (the resource is not configured without it).
    pub required: bool,
    /// Unique across the cluster's resources of this type.
    pub unique: bool,
    /// The only values allowed (empty: any value of the type).
    pub choices: &'static [&'static str],
    /// One line.
    pub shortdesc: &'static str,
    /// The full description.
    pub longdesc: &'static str,
}

/// The parameters.
pub const PARAMS: &[Param] = &[
    Param {
        name: "volgrpname",
        kind: ParamType::String,
        default: None,
        required: true,
        // Several resources may name one VG with different `lvname`s.
        unique: false,
        choices: &[],
        shortdesc: "Volume group name",
        longdesc: "The name of the LVM volume group to bring in service (take over by system ID, \
                   activate) on start and out of service on stop. The first start on a node \
                   records the volume group as a kit resource of this instance (its UUID, PVs, \
                   the cluster's nodes as peers) and turns its autoactivation off.",
    },
    Param {
        name: "lvname",
        kind: ParamType::String,
        default: Some(""),
        required: false,
        unique: false,
        choices: &[],
        shortdesc: "Logical volume name (optional)",
        longdesc: "Manage one logical volume of the volume group instead of the whole group: \
                   monitor checks and stop removes only this LV's devices. Start still takes \
                   the volume group over (its system ID is the group's), as the kit's lvmlv \
                   resource does.",
    },
    Param {
        name: "activation_mode",
        kind: ParamType::String,
        default: Some("complete"),
        required: false,
        unique: false,
        choices: &["complete", "degraded", "partial"],
        shortdesc: "Activation mode: complete, degraded or partial",
        longdesc: "Which PVs must be present to start, as lvm2's --activationmode: complete \
                   (every PV, the default), degraded (RAID LVs may run with a leg missing; \
                   monitor then reports degraded), partial (missing areas become error \
                   targets). One of: complete, degraded, partial.",
    },
    Param {
        name: "ownership",
        kind: ParamType::String,
        default: Some("system_id"),
        required: false,
        unique: false,
        choices: &["system_id", "none"],
        shortdesc: "Ownership: system_id or none",
        longdesc: "system_id (the default): the volume group carries its owner's lvm2 system ID; \
                   start writes this node's, taking the group over only from a peer (the \
                   cluster's nodes, read with crm_node -l when the kit resource names none) and \
                   refusing a foreign owner outside the cluster. none: no system ID is written \
                   (a volume group only one node can see). One of: system_id, none.",
    },
    Param {
        name: "devices",
        kind: ParamType::String,
        default: Some(""),
        required: false,
        unique: false,
        choices: &[],
        shortdesc: "PV devices to scan (optional)",
        longdesc: "Comma-separated device paths the volume group's PVs are on, to scan instead \
                   of every block device when the recorded PVs are not where they were (like \
                   lvm2's --devices). Empty: every block device.",
    },
    Param {
        name: "monitor_read_timeout",
        kind: ParamType::Time,
        default: Some("5s"),
        required: false,
        unique: false,
        choices: &[],
        shortdesc: "Deadline of monitor's PV reads (OCF_CHECK_LEVEL 10 and 20)",
        longdesc: "How long a monitor at OCF_CHECK_LEVEL 10 or 20 waits for its direct reads of \
                   every PV (done in child processes, so a hung path cannot hang the monitor) \
                   before it reports the path dead. Seconds, or with a unit (500ms, 5s). Keep \
                   it well below the monitor operation's timeout.",
    },
];

/// The parameter `name`.
pub fn param(name: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| p.name == name)
}

/// `ocf_is_true`'s spellings (yes/true/1/on, any case; `ja` too).
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" | "on" | "ja" | "y" => Some(true),
        "no" | "false" | "0" | "off" | "nein" | "n" => Some(false),
        _ => None,
    }
}

/// A duration as Pacemaker writes them: `N` (seconds), `Nms`, `Ns`, `Nmin`, `Nm`, `Nh`.
pub fn parse_time(v: &str) -> Option<Duration> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let ms = match unit.trim() {
        "" | "s" | "sec" => n.checked_mul(1000)?,
        "ms" | "msec" => n,
        "m" | "min" => n.checked_mul(60_000)?,
        "h" | "hr" => n.checked_mul(3_600_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

impl Param {
    /// Checks a value against the parameter's type and choices.
    pub fn check(&self, value: &str) -> Result<(), OcfError> {
        let bad = |why: String| OcfError::configured(format!("parameter {}={value:?}: {why}", self.name));
        if !self.choices.is_empty() && !self.choices.contains(&value) {
            return Err(bad(format!("must be one of {}", self.choices.join(", "))));
        }
        match self.kind {
            ParamType::String => {
                if value.contains('\n') || value.contains('\0') {
                    return Err(bad("contains a newline or NUL".into()));
                }
            }
            ParamType::Integer => {
                value.parse::<i64>().map_err(|_| bad("not an integer".into()))?;
            }
            ParamType::Boolean => {
                parse_bool(value)
                    .ok_or_else(|| bad("not a boolean (yes/no, true/false, 1/0, on/off)".into()))?;
            }
            ParamType::Time => match parse_time(value) {
                Some(d) if !d.is_zero() => {}
                Some(_) => return Err(bad("must be more than 0".into())),
                None => return Err(bad("not a duration (N, Nms, Ns, Nmin)".into())),
            },
        }
        Ok(())
    }
}

/// The parameters' values as the agent received them: every parameter of [`PARAMS`] with its
/// value or default, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Values {
    values: Vec<(&'static str, String)>,
}

impl Values {
    /// Reads `OCF_RESKEY_<name>` for every parameter through `env`, applies defaults and checks
    /// each value; a missing required parameter or a bad value is an `OCF_ERR_CONFIGURED`
    /// error naming it. Variables of unknown parameters are ignored (Pacemaker passes its own
    /// `OCF_RESKEY_CRM_meta_*`).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Values, OcfError> {
        let mut values = Vec::with_capacity(PARAMS.len());
        for p in PARAMS {
            let v = env(&format!("OCF_RESKEY_{}", p.name)).filter(|v| !v.is_empty());
            let v = match (v, p.default) {
                (Some(v), _) => v,
                (None, _) if p.required => {
                    return Err(OcfError::configured(format!("required parameter {} is not set", p.name)));
                }
                (None, Some(d)) => d.to_string(),
                (None, None) => String::new(),
            };
            if !v.is_empty() {
                p.check(&v)?;
            }
            values.push((p.name, v));
        }
        Ok(Values { values })
    }

    /// The value of `name` ("" when unset without a default).
    ///
    /// # Panics
    /// When `name` is not in [`PARAMS`] (a programming error the tests catch).
    pub fn get(&self, name: &str) -> &str {
        match self.values.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => v,
            None => panic!("no parameter {name} in PARAMS"),
        }
    }

    /// The value of `name`, `None` when empty.
    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.get(name)).filter(|v| !v.is_empty())
    }
}
