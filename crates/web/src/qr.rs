//! QR codes of Digital Link URIs, as SVG (for the page) or PNG (for
//! printing on a label). The PNG is written here — one grey-level bit per
//! pixel, zlib via `flate2` — rather than pulling in an image library for
//! a black-and-white square.

use qrcode::{Color, EcLevel, QrCode, render::svg};
use std::io::Write;

/// Why a QR code could not be made.
#[derive(Debug, PartialEq, Eq)]
pub struct QrError(pub String);

impl std::fmt::Display for QrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Medium error correction: survives a scuffed label, keeps the code small.
fn code(data: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).map_err(|e| {
        QrError(format!(
            "cannot encode {} bytes as a QR code: {e}",
            data.len()
        ))
    })
}

/// The QR code of `data` as an SVG document.
pub fn svg(data: &str) -> Result<String, QrError> {
    Ok(code(data)?
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

/// Quiet zone around the modules, in modules (the QR standard's minimum).
const QUIET: usize = 4;

/// The QR code of `data` as a PNG, `scale` pixels per module.
pub fn png(data: &str, scale: usize) -> Result<Vec<u8>, QrError> {
    let code = code(data)?;
    let modules = code.width();
    let colors = code.to_colors();
    let scale = scale.clamp(1, 32);
    let side = (modules + 2 * QUIET) * scale;
    let dark = |x: usize, y: usize| {
        let (mx, my) = (x / scale, y / scale);
        (QUIET..QUIET + modules).contains(&mx)
            && (QUIET..QUIET + modules).contains(&my)
            && colors[(my - QUIET) * modules + (mx - QUIET)] == Color::Dark
    };
    let row_bytes = side.div_ceil(8);
    let mut raw = Vec::with_capacity(side * (row_bytes + 1));
    for y in 0..side {
        raw.push(0); // filter: none
        let mut row = vec![0xffu8; row_bytes];
        for x in (0..side).filter(|&x| dark(x, y)) {
            row[x / 8] &= !(0x80 >> (x % 8));
        }
        raw.extend_from_slice(&row);
    }
    encode_png(side as u32, &raw).map_err(|e| QrError(format!("PNG encoding: {e}")))
}

/// A 1-bit greyscale PNG of `side` × `side` pixels from filtered rows.
fn encode_png(side: u32, rows: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&side.to_be_bytes());
    header.extend_from_slice(&side.to_be_bytes());
    // bit depth 1, colour type 0 (grey), deflate, adaptive filters, no interlace
    header.extend_from_slice(&[1, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &header);
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    zlib.write_all(rows)?;
    chunk(&mut out, b"IDAT", &zlib.finish()?);
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    const URI: &str = "https://id.gs1.org/01/04023456000222/21/1002";

    #[test]
    fn svg_is_a_drawing() {
        let text = svg(URI).expect("svg");
        assert!(text.contains("<svg"), "{text}");
        assert!(text.contains("<path"));
    }

    /// Reads the PNG back: signature, header, CRCs, and the pixels match
    /// the code's modules.
    #[test]
    fn png_decodes_to_the_modules() {
        let bytes = png(URI, 4).expect("png");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let mut at = 8;
        let mut chunks = Vec::new();
        while at < bytes.len() {
            let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            let kind = &bytes[at + 4..at + 8];
            let data = &bytes[at + 8..at + 8 + len];
            let crc = u32::from_be_bytes(bytes[at + 8 + len..at + 12 + len].try_into().unwrap());
            let mut h = crc32fast::Hasher::new();
            h.update(kind);
            h.update(data);
            assert_eq!(
                h.finalize(),
                crc,
                "CRC of {}",
                String::from_utf8_lossy(kind)
            );
            chunks.push((kind.to_vec(), data.to_vec()));
            at += 12 + len;
        }
        let kinds: Vec<&[u8]> = chunks.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(kinds, [b"IHDR".as_slice(), b"IDAT", b"IEND"]);
        let code = code(URI).unwrap();
        let side = (code.width() + 2 * QUIET) * 4;
        assert_eq!(
            u32::from_be_bytes(chunks[0].1[..4].try_into().unwrap()) as usize,
            side
        );
        let mut rows = Vec::new();
        flate2::read::ZlibDecoder::new(&chunks[1].1[..])
            .read_to_end(&mut rows)
            .unwrap();
        let row_bytes = side.div_ceil(8) + 1;
        assert_eq!(rows.len(), side * row_bytes);
        let pixel_dark =
            |x: usize, y: usize| rows[y * row_bytes + 1 + x / 8] & (0x80 >> (x % 8)) == 0;
        let colors = code.to_colors();
        for my in 0..code.width() {
            for mx in 0..code.width() {
                let (x, y) = ((mx + QUIET) * 4 + 1, (my + QUIET) * 4 + 2);
                assert_eq!(
                    pixel_dark(x, y),
                    colors[my * code.width() + mx] == Color::Dark
                );
            }
        }
        assert!(!pixel_dark(0, 0), "quiet zone is light");
    }

    #[test]
    fn too_long_data_is_an_error() {
        assert!(svg(&"x".repeat(5000)).is_err());
    }
}
