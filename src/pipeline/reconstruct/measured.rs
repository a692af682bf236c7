//! What `visage eval real` measured for each method, compiled in so that the app can say next to
//! a method's name how it does on real photos: depth51 (% of the face size, lower is better) on
//! the six AFLW2000-3D development photos, at full resolution and with the face shrunk to 64, 32
//! and 24 px and enlarged by ESPCN. A method worse than the plain `landmarks` mesh at full
//! resolution is experimental. A test reruns the evaluation and fails when these numbers go stale.

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
}

/// The measurements (`visage eval real --widths full,64,32,24 --upscalers espcn --no-james`).
pub const REAL: [RealScore; 5] = [
    RealScore {
        method: Method::Landmarks,
        full: 3.09,
        at_64px: 3.23,
        at_32px: 2.59,
        at_24px: 2.98,
    },
    RealScore {
        method: Method::Vrn,
        full: 3.26,
        at_64px: 3.29,
        at_32px: 3.32,
        at_24px: 3.21,
    },
    RealScore {
        method: Method::Pix2pix,
        full: 4.50,
        at_64px: 4.07,
        at_32px: 4.38,
        at_24px: 4.86,
    },
    RealScore {
        method: Method::Morphable,
        full: 2.99,
        at_64px: 2.96,
        at_32px: 2.54,
        at_24px: 2.73,
    },
    RealScore {
        method: Method::MorphableCgan,
        full: 3.22,
        at_64px: 3.15,
        at_32px: 2.80,
        at_24px: 2.95,
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
            })
    }

    /// True when the method is worse on real photos than the plain `landmarks` mesh.
    #[must_use]
    pub fn is_experimental(self) -> bool {
        let base = Self::Landmarks.real_score().full;
        self != Self::Landmarks
            && self.real_score().full.partial_cmp(&base) != Some(std::cmp::Ordering::Less)
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

    /// The name with its real-photo standing, e.g. `vrn (experimental: depth51 3.26 on real
    /// photos; landmarks 3.09)`.
    #[must_use]
    pub fn label(self) -> String {
        let s = self.real_score();
        if self.is_experimental() {
            format!(
                "{} (experimental: depth51 {:.2} on real photos; landmarks {:.2})",
                self.name(),
                s.full,
                Self::Landmarks.real_score().full
            )
        } else {
            format!("{} (depth51 {:.2} on real photos)", self.name(), s.full)
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
            let worse = m.real_score().full >= Method::Landmarks.real_score().full;
            assert_eq!(m.is_experimental(), m != Method::Landmarks && worse, "{m}");
            assert!(m.label().starts_with(m.name()));
            assert_eq!(m.label().contains("experimental"), m.is_experimental());
        }
    }
}
