//! QR codes rendered locally as SVG: the payload never leaves the machine and the window loads
//! nothing from the network.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::{Error, Result};

/// An SVG image of `data` (BankID's animated QR payload), black on white with a quiet zone.
pub fn svg(data: &str) -> Result<String> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::L)
        .map_err(|e| Error::Protocol(format!("the QR payload cannot be encoded: {e}")))?;
    let doc = code
        .render::<svg::Color>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Inline in HTML: drop the XML prolog, keep the <svg> element.
    Ok(match doc.find("<svg") {
        Some(i) => doc[i..].to_string(),
        None => doc,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_a_bankid_payload_and_differs_per_payload() {
        let a = super::svg("bankid.67df3917-fa0d-44e5-b327-edcc928297f8.0.dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8").unwrap();
        let b = super::svg("bankid.67df3917-fa0d-44e5-b327-edcc928297f8.1.949d559bf23403952a94d103e67743126381eda00f0b3cbddbf7c96b1adcbce2").unwrap();
        assert!(a.starts_with("<svg") && a.ends_with("</svg>"));
        assert_ne!(a, b);
    }
}
