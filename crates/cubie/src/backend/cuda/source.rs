//! Writing CUDA C: an indented line buffer, and literals that round-trip
//! exactly in the solve's precision.

use crate::precision::Precision;

/// CUDA C under construction, one line at a time.
#[derive(Debug, Default, Clone)]
pub struct CudaSource {
    text: String,
    depth: usize,
}

impl CudaSource {
    /// An empty source.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one line at the current depth.
    pub fn line(&mut self, line: impl AsRef<str>) {
        let line = line.as_ref();
        if !line.is_empty() {
            for _ in 0..self.depth {
                self.text.push_str("    ");
            }
            self.text.push_str(line);
        }
        self.text.push('\n');
    }

    /// Appends `header {` and indents what follows.
    pub fn open(&mut self, header: impl AsRef<str>) {
        let header = header.as_ref();
        if header.is_empty() {
            self.line("{");
        } else {
            self.line(format!("{header} {{"));
        }
        self.depth += 1;
    }

    /// Ends the innermost block.
    pub fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.line("}");
    }

    /// Ends a struct's block (`};`).
    pub fn close_struct(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.line("};");
    }

    /// Ends the innermost block with `suffix` after the brace (`} else {`).
    pub fn close_with(&mut self, suffix: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.line(format!("}} {suffix}"));
        self.depth += 1;
    }

    /// Appends another source at the current depth.
    pub fn append(&mut self, other: &CudaSource) {
        for line in other.text.lines() {
            self.line(line);
        }
    }

    /// The text.
    pub fn finish(self) -> String {
        self.text
    }
}

/// How the solve's precision reads in C.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CReal(pub Precision);

impl CReal {
    /// `x` rounded to the precision as the CPU backend rounds it
    /// (`T::from_f64`), written so that the compiler reads back the same
    /// value: Rust prints the shortest decimal that round-trips in the type,
    /// and C compilers round decimal literals correctly.
    pub fn literal(self, x: f64) -> String {
        match self.0 {
            Precision::F64 => {
                if x.is_nan() {
                    "CUBIE_NAN".into()
                } else if x.is_infinite() {
                    if x > 0.0 { "CUBIE_INF" } else { "(-CUBIE_INF)" }.into()
                } else {
                    let text = format!("{x:?}");
                    if x < 0.0 { format!("({text})") } else { text }
                }
            }
            Precision::F32 => {
                let v = x as f32;
                if v.is_nan() {
                    "CUBIE_NANF".into()
                } else if v.is_infinite() {
                    if v > 0.0 {
                        "CUBIE_INFF"
                    } else {
                        "(-CUBIE_INFF)"
                    }
                    .into()
                } else {
                    let text = format!("{v:?}f");
                    if v < 0.0 { format!("({text})") } else { text }
                }
            }
        }
    }

    /// The C type.
    pub fn name(self) -> &'static str {
        match self.0 {
            Precision::F32 => "float",
            Precision::F64 => "double",
        }
    }

    /// A math function of this precision (`exp` or `expf`).
    pub fn math(self, name: &str) -> String {
        match self.0 {
            Precision::F32 => format!("{name}f"),
            Precision::F64 => name.to_string(),
        }
    }

    /// The machine epsilon.
    pub fn epsilon(self) -> String {
        match self.0 {
            Precision::F32 => self.literal(f32::EPSILON as f64),
            Precision::F64 => self.literal(f64::EPSILON),
        }
    }
}

/// A C identifier made from a model name (`x`, `k_on`, `Na+` ...):
/// letters, digits and `_` kept, anything else `_`.
pub fn identifier(prefix: &str, name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{prefix}_{cleaned}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_round_trip_in_their_precision() {
        let d = CReal(Precision::F64);
        let f = CReal(Precision::F32);
        assert_eq!(d.literal(0.1), "0.1");
        assert_eq!(d.literal(1.0), "1.0");
        assert_eq!(d.literal(-2.5e-10), "(-2.5e-10)");
        assert_eq!(f.literal(0.1), "0.1f");
        assert_eq!(f.literal(1.0 / 3.0), "0.33333334f");
        assert_eq!(d.literal(f64::INFINITY), "CUBIE_INF");
        assert_eq!(f.literal(f64::NAN), "CUBIE_NANF");
        for x in [0.1, 1.0 / 3.0, 6.02e23, 1e-300, 123456.789] {
            let back: f64 = d.literal(x).parse().expect("a C double literal");
            assert_eq!(back, x);
            let single = f.literal(x);
            let back: f32 = single.trim_end_matches('f').parse().expect("a float");
            assert_eq!(back, x as f32);
        }
    }

    #[test]
    fn blocks_indent_and_identifiers_are_c() {
        let mut s = CudaSource::new();
        s.open("if (a)");
        s.line("b = 1;");
        s.close_with("else {");
        s.line("b = 2;");
        s.close();
        assert_eq!(
            s.finish(),
            "if (a) {\n    b = 1;\n} else {\n    b = 2;\n}\n"
        );
        assert_eq!(identifier("p", "k on+"), "p_k_on_");
    }
}
