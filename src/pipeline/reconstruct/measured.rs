//! What `visage eval real` measured for each method, compiled in so that the app can say next to
//! a method's name how it does on real photos: depth51 (% of the face size, lower is better) on
//! the six AFLW2000-3D development photos, at full resolution and with the face shrunk to 64, 32
//! and 24 px and enlarged by ESPCN, and on the 14 renders of the real james head scan at full
//! resolution. A method worse than the plain `landmarks` mesh at full resolution on either set is
//! experimental. A test reruns the evaluation and fails when these numbers go stale.

use super::Method;

/// One method's real-photo depth51.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RealScore {
    /// The method.
    pub method: Method,
    /// depth51 at full resolution, %.
    pub full: f32,
    /// depth51 with the face 64 px wide, ESPCN, %.
    pub at_64px: f32,
    /// depth51 with the face 32 px wide, ESPCN, %.
    pub at_32px: f32,
    /// depth51 with the face 24 px wide, ESPCN, %.
    pub at_24px: f32,
    /// depth51 on the james renders at full resolution, %.
    pub james: f32,
}

/// The measurements (`visage eval real --widths full,64,32,24 --upscalers espcn`), the two
/// full-resolution values that decide [`Method::is_experimental`] to three decimals: at two,
/// `3dmm` (3.309) and `landmarks` (3.305) on the james renders would tie.
pub const REAL: [RealScore; 5] = [
    RealScore {
        method: Method::Landmarks,
        full: 2.722,
        at_64px: 2.53,
        at_32px: 2.48,
        at_24px: 2.67,
        james: 3.305,
    },
    RealScore {
        method: Method::Vrn,
        full: 2.370,
        at_64px: 2.33,
        at_32px: 2.38,
        at_24px: 2.40,
        james: 3.402,
    },
    RealScore {
        method: Method::Pix2pix,
        full: 2.698,
        at_64px: 2.75,
        at_32px: 3.19,
        at_24px: 3.48,
        james: 3.653,
    },
    RealScore {
        method: Method::Morphable,
        full: 2.710,
        at_64px: 2.65,
        at_32px: 2.54,
        at_24px: 2.70,
        james: 3.309,
    },
    RealScore {
        method: Method::MorphableCgan,
        full: 2.652,
        at_64px: 2.62,
        at_32px: 2.56,
        at_24px: 2.79,
        james: 3.480,
    },
];

impl Method {
    /// The method's real-photo scores.
    #[must_use]
    pub fn real_score(self) -> RealScore {
        REAL.iter()
            .copied()
            .find(|s| s.method == self)
            .unwrap_or(RealScore {
                method: self,
                full: f32::NAN,
                at_64px: f32::NAN,
                at_32px: f32::NAN,
                at_24px: f32::NAN,
                james: f32::NAN,
            })
    }

    /// True when the method is worse on real photos than the plain `landmarks` mesh: a higher
    /// depth51 at full resolution on the AFLW photos or on the james renders (a tie is not
    /// worse; an unmeasured method is experimental).
    #[must_use]
    pub fn is_experimental(self) -> bool {
        let (base, own) = (Self::Landmarks.real_score(), self.real_score());
        let worse = |a: f32, b: f32| {
            a.partial_cmp(&b)
                .is_none_or(|o| o == std::cmp::Ordering::Greater)
        };
        self != Self::Landmarks && (worse(own.full, base.full) || worse(own.james, base.james))
    }

    /// The measured depth51 nearest a face `width` pixels wide (full resolution from 96 px).
    #[must_use]
    pub fn real_depth51_at(self, width: f32) -> f32 {
        let s = self.real_score();
        match width {
            w if w >= 96.0 => s.full,
            w if w >= 48.0 => s.at_64px,
            w if w >= 28.0 => s.at_32px,
            _ => s.at_24px,
        }
    }

    /// The name with its real-photo standing (AFLW photos / james renders), e.g. `vrn
    /// (experimental: depth51 3.03 / 3.81 on real photos; landmarks 2.72 / 3.30)`.
    #[must_use]
    pub fn label(self) -> String {
        let s = self.real_score();
        if self.is_experimental() {
            let base = Self::Landmarks.real_score();
            format!(
                "{} (experimental: depth51 {:.2} / {:.2} on real photos; landmarks {:.2} / {:.2})",
                self.name(),
                s.full,
                s.james,
                base.full,
                base.james
            )
        } else {
            format!(
                "{} (depth51 {:.2} / {:.2} on real photos)",
                self.name(),
                s.full,
                s.james
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_worse_than_landmarks_are_experimental() {
        assert!(!Method::Landmarks.is_experimental());
        for m in Method::ALL {
            let (own, base) = (m.real_score(), Method::Landmarks.real_score());
            let worse = own.full > base.full
                || own.james > base.james
                || own.full.is_nan()
                || own.james.is_nan();
            assert_eq!(m.is_experimental(), m != Method::Landmarks && worse, "{m}");
            assert!(m.label().starts_with(m.name()));
            assert_eq!(m.label().contains("experimental"), m.is_experimental());
        }
    }
}
