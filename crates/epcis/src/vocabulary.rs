//! CBV 2.0 and GS1 Web Vocabulary terms that EPCIS fields draw from.
//!
//! A value may be written bare (`receiving`, as the EPCIS JSON-LD context
//! defines it), as a CBV 1.x URN (`urn:epcglobal:cbv:bizstep:receiving`), as
//! a CURIE (`cbv:BizStep-receiving`) or as the web URI
//! (`https://ref.gs1.org/cbv/BizStep-receiving`). A value outside the
//! standard vocabulary is allowed only as an absolute URI; a bare word that
//! is not a standard term is an error (except for sensor measurement types,
//! see [`VocabularyKind::bare_unknown_allowed`]).

use std::fmt;

/// Which vocabulary a field draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VocabularyKind {
    BizStep,
    Disposition,
    BizTransactionType,
    SourceDestType,
    ErrorReason,
    /// sensorReport `type` (gs1:MeasurementType).
    MeasurementType,
    /// sensorReport `exception`.
    SensorAlertType,
    /// sensorReport `component`.
    Component,
}

impl VocabularyKind {
    /// Every kind.
    pub const ALL: [VocabularyKind; 8] = [
        Self::BizStep,
        Self::Disposition,
        Self::BizTransactionType,
        Self::SourceDestType,
        Self::ErrorReason,
        Self::MeasurementType,
        Self::SensorAlertType,
        Self::Component,
    ];

    /// Web URI prefix that a bare term is appended to.
    pub fn web_prefix(self) -> &'static str {
        match self {
            Self::BizStep => "https://ref.gs1.org/cbv/BizStep-",
            Self::Disposition => "https://ref.gs1.org/cbv/Disp-",
            Self::BizTransactionType => "https://ref.gs1.org/cbv/BTT-",
            Self::SourceDestType => "https://ref.gs1.org/cbv/SDT-",
            Self::ErrorReason => "https://ref.gs1.org/cbv/ER-",
            Self::MeasurementType | Self::SensorAlertType => "https://gs1.org/voc/",
            Self::Component => "https://ref.gs1.org/cbv/Comp-",
        }
    }

    /// CBV 1.x URN prefix, where one exists.
    pub fn urn_prefix(self) -> Option<&'static str> {
        match self {
            Self::BizStep => Some("urn:epcglobal:cbv:bizstep:"),
            Self::Disposition => Some("urn:epcglobal:cbv:disp:"),
            Self::BizTransactionType => Some("urn:epcglobal:cbv:btt:"),
            Self::SourceDestType => Some("urn:epcglobal:cbv:sdt:"),
            Self::ErrorReason => Some("urn:epcglobal:cbv:er:"),
            _ => None,
        }
    }

    pub fn terms(self) -> &'static [&'static str] {
        match self {
            Self::BizStep => BIZ_STEPS,
            Self::Disposition => DISPOSITIONS,
            Self::BizTransactionType => BIZ_TRANSACTION_TYPES,
            Self::SourceDestType => SOURCE_DEST_TYPES,
            Self::ErrorReason => ERROR_REASONS,
            Self::MeasurementType => MEASUREMENT_TYPES,
            Self::SensorAlertType => SENSOR_ALERT_TYPES,
            Self::Component => COMPONENTS,
        }
    }

    /// GS1 adds measurement types to its Web Vocabulary faster than the
    /// EPCIS context lists them, and published examples use bare names the
    /// context does not define (`EffectiveDoseRate`); those are kept as
    /// written rather than rejected.
    pub fn bare_unknown_allowed(self) -> bool {
        matches!(self, Self::MeasurementType)
    }

    fn describe(self) -> &'static str {
        match self {
            Self::BizStep => "business step",
            Self::Disposition => "disposition",
            Self::BizTransactionType => "business transaction type",
            Self::SourceDestType => "source/destination type",
            Self::ErrorReason => "error reason",
            Self::MeasurementType => "measurement type",
            Self::SensorAlertType => "sensor exception",
            Self::Component => "component",
        }
    }

    fn lookup(self, term: &str) -> Option<&'static str> {
        self.terms().iter().copied().find(|t| *t == term)
    }
}

/// A vocabulary value after resolution.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VocabularyValue {
    /// A term of the standard vocabulary (the bare term, e.g. `receiving`).
    Standard {
        kind: VocabularyKind,
        term: &'static str,
    },
    /// Anything else: an absolute URI (CURIEs already expanded), or for
    /// measurement types a bare name the EPCIS context does not define.
    Custom(String),
}

impl VocabularyValue {
    /// The standard bare term, if this is one.
    pub fn standard_term(&self) -> Option<&'static str> {
        match self {
            Self::Standard { term, .. } => Some(term),
            Self::Custom(_) => None,
        }
    }

    /// The web URI for standard terms, the value itself otherwise.
    pub fn uri(&self) -> String {
        match self {
            Self::Standard { kind, term } => [kind.web_prefix(), term].concat(),
            Self::Custom(s) => s.clone(),
        }
    }
}

impl fmt::Display for VocabularyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri())
    }
}

/// Resolve `value` (CURIEs already expanded by the caller) for `kind`.
pub fn resolve(kind: VocabularyKind, value: &str) -> Result<VocabularyValue, String> {
    if value.is_empty() {
        return Err(format!("empty {}", kind.describe()));
    }
    if !value.contains(':') {
        return match kind.lookup(value) {
            Some(term) => Ok(VocabularyValue::Standard { kind, term }),
            None if kind.bare_unknown_allowed() => Ok(VocabularyValue::Custom(value.to_owned())),
            None => Err(format!(
                "'{value}' is not a standard CBV {}; a non-standard value must be an absolute URI",
                kind.describe()
            )),
        };
    }
    let standard = kind
        .urn_prefix()
        .and_then(|p| value.strip_prefix(p))
        .or_else(|| value.strip_prefix(kind.web_prefix()))
        .and_then(|term| kind.lookup(term));
    if let Some(term) = standard {
        return Ok(VocabularyValue::Standard { kind, term });
    }
    if !crate::uri::is_absolute_uri(value) {
        return Err(format!(
            "'{value}' is neither a standard CBV {} nor an absolute URI",
            kind.describe()
        ));
    }
    Ok(VocabularyValue::Custom(value.to_owned()))
}

pub const BIZ_STEPS: &[&str] = &[
    "accepting",
    "arriving",
    "assembling",
    "collecting",
    "commissioning",
    "consigning",
    "creating_class_instance",
    "cycle_counting",
    "decommissioning",
    "departing",
    "destroying",
    "disassembling",
    "dispensing",
    "encoding",
    "entering_exiting",
    "holding",
    "inspecting",
    "installing",
    "killing",
    "loading",
    "other",
    "packing",
    "picking",
    "receiving",
    "removing",
    "repackaging",
    "repairing",
    "replacing",
    "reserving",
    "retail_selling",
    "sampling",
    "sensor_reporting",
    "shipping",
    "staging_outbound",
    "stock_taking",
    "stocking",
    "storing",
    "transporting",
    "unloading",
    "unpacking",
    "void_shipping",
];

pub const DISPOSITIONS: &[&str] = &[
    "active",
    "available",
    "completeness_verified",
    "completeness_inferred",
    "conformant",
    "container_closed",
    "container_open",
    "damaged",
    "destroyed",
    "dispensed",
    "disposed",
    "encoded",
    "expired",
    "in_progress",
    "in_transit",
    "inactive",
    "mismatch_instance",
    "mismatch_class",
    "mismatch_quantity",
    "needs_replacement",
    "no_pedigree_match",
    "non_conformant",
    "non_sellable_other",
    "partially_dispensed",
    "recalled",
    "reserved",
    "retail_sold",
    "returned",
    "sellable_accessible",
    "sellable_not_accessible",
    "stolen",
    "unavailable",
    "unknown",
];

pub const BIZ_TRANSACTION_TYPES: &[&str] = &[
    "bol",
    "cert",
    "desadv",
    "inv",
    "pedigree",
    "po",
    "poc",
    "prodorder",
    "recadv",
    "rma",
    "testprd",
    "testres",
    "upevt",
];

pub const SOURCE_DEST_TYPES: &[&str] = &["owning_party", "possessing_party", "location"];

pub const ERROR_REASONS: &[&str] = &["did_not_occur", "incorrect_data"];

pub const SENSOR_ALERT_TYPES: &[&str] = &["ALARM_CONDITION", "ERROR_CONDITION"];

pub const COMPONENTS: &[&str] = &[
    "x",
    "y",
    "z",
    "axial_distance",
    "azimuth",
    "height",
    "spherical_radius",
    "polar_angle",
    "elevation_angle",
    "easting",
    "northing",
    "latitude",
    "longitude",
    "altitude",
];

/// The measurement types that the EPCIS 2.0 JSON-LD context defines.
pub const MEASUREMENT_TYPES: &[&str] = &[
    "AbsoluteHumidity",
    "AbsorbedDose",
    "AbsorbedDoseRate",
    "Acceleration",
    "Radioactivity",
    "Altitude",
    "AmountOfSubstance",
    "AmountOfSubstancePerUnitVolume",
    "Angle",
    "AngularAcceleration",
    "AngularMomentum",
    "AngularVelocity",
    "Area",
    "Capacitance",
    "Conductance",
    "Conductivity",
    "Count",
    "Density",
    "Dimensionless",
    "DoseEquivalent",
    "DoseEquivalentRate",
    "DynamicViscosity",
    "ElectricCharge",
    "ElectricCurrent",
    "ElectricCurrentDensity",
    "ElectricFieldStrength",
    "Energy",
    "Exposure",
    "Force",
    "Frequency",
    "Illuminance",
    "Inductance",
    "Irradiance",
    "KinematicViscosity",
    "Length",
    "LinearMomentum",
    "Luminance",
    "LuminousFlux",
    "LuminousIntensity",
    "MagneticFlux",
    "MagneticFluxDensity",
    "MagneticVectorPotential",
    "Mass",
    "MassConcentration",
    "MassFlowRate",
    "MassPerAreaTime",
    "MemoryCapacity",
    "MolalityOfSolute",
    "MolarEnergy",
    "MolarMass",
    "MolarVolume",
    "Power",
    "Pressure",
    "RadiantFlux",
    "RadiantIntensity",
    "RelativeHumidity",
    "Resistance",
    "Resistivity",
    "SolidAngle",
    "SpecificVolume",
    "Speed",
    "SurfaceDensity",
    "SurfaceTension",
    "Temperature",
    "Time",
    "Torque",
    "Voltage",
    "Volume",
    "VolumeFlowRate",
    "VolumeFraction",
    "VolumetricFlux",
    "Wavenumber",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_forms_of_a_standard_term_resolve_alike() {
        for v in [
            "receiving",
            "urn:epcglobal:cbv:bizstep:receiving",
            "https://ref.gs1.org/cbv/BizStep-receiving",
        ] {
            let r = resolve(VocabularyKind::BizStep, v).unwrap();
            assert_eq!(r.standard_term(), Some("receiving"));
            assert_eq!(r.uri(), "https://ref.gs1.org/cbv/BizStep-receiving");
        }
        let d = resolve(VocabularyKind::Disposition, "in_transit").unwrap();
        assert_eq!(d.uri(), "https://ref.gs1.org/cbv/Disp-in_transit");
    }

    #[test]
    fn unknown_bare_words_are_rejected_but_uris_allowed() {
        assert!(resolve(VocabularyKind::BizStep, "transforming").is_err());
        assert!(resolve(VocabularyKind::Disposition, "in_transport").is_err());
        assert!(resolve(VocabularyKind::SourceDestType, "place").is_err());
        assert!(resolve(VocabularyKind::BizStep, "").is_err());
        assert!(resolve(VocabularyKind::BizStep, "not a uri:x").is_err());
        let c = resolve(VocabularyKind::BizStep, "https://example.com/steps/milling").unwrap();
        assert_eq!(
            c,
            VocabularyValue::Custom("https://example.com/steps/milling".into())
        );
        let m = resolve(VocabularyKind::MeasurementType, "EffectiveDoseRate").unwrap();
        assert_eq!(m.uri(), "EffectiveDoseRate");
        let t = resolve(VocabularyKind::MeasurementType, "Temperature").unwrap();
        assert_eq!(t.uri(), "https://gs1.org/voc/Temperature");
    }
}
