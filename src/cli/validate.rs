//! `flspost validate FILE...`: each file's type is recognised by its root element and
//! namespace and checked against the bundled schema; each problem is printed as
//! `FILE:LINE:COL: message`.

use flspost::error::Result;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Message files: XDIS91, MeMo, MedCom receipts, FHIR CareCommunications and
    /// Acknowledgements, VANSEnvelopes.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

pub fn run(args: Args) -> Result<i32> {
    let mut code = 0;
    for path in &args.files {
        let bytes = match flspost::schema::read_message(path) {
            Ok(b) => b,
            Err(line) => {
                errln!("flspost: {}", super::shown(&line));
                code = code.max(1);
                continue;
            }
        };
        match flspost::app::validate::validate(&bytes) {
            Ok(kind) => outln!("{}: valid {} ({})", path.display(), kind.name(), kind.bundled_schema().0),
            Err(problems) => {
                // libxml2 quotes the offending value, which can be a (malformed) CPR number.
                for p in problems {
                    // A FHIR JSON document's problems are named by their JSON key, not a line.
                    let at = if p.line.is_none() {
                        format!("{}: {}", path.display(), p.message)
                    } else {
                        format!("{}:{p}", path.display())
                    };
                    outln!("{}", super::shown(&at));
                }
                code = code.max(1);
            }
        }
    }
    Ok(code)
}
