//! Every sanctions/PEP list parser on arbitrary bytes: an error names the
//! file, never a panic. The first byte picks the format.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let _ = match selector % 6 {
        0 => kycd_screening::parse_ofac_csv(bytes, None, None, "sdn.csv"),
        1 => {
            // sdn.csv, alt.csv and add.csv cut from one input at 0x1E bytes.
            let mut parts = bytes.splitn(3, |b| *b == 0x1E);
            let sdn = parts.next().unwrap_or_default();
            kycd_screening::parse_ofac_csv(sdn, parts.next(), parts.next(), "sdn.csv")
        }
        2 => kycd_screening::parse_un_xml(bytes, "un.xml"),
        3 => kycd_screening::parse_ftm_json(bytes, "ftm.json"),
        4 => kycd_screening::parse_senzing_json(bytes, "senzing.json"),
        _ => kycd_screening::parse_csv(bytes, "list.csv"),
    };
});
