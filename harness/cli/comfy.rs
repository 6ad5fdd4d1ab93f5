//! `endpoint-harness inventory` (save a ComfyUI's `/object_info`, the node
//! inventory preflight and conversion use) and `endpoint-harness convert`
//! (a UI-format save printed as the API graph the worker needs).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::comfyui::inventory::Inventory;
use crate::comfyui::ComfyClient;

/// `inventory --comfyui URL`: print (or save) the server's node inventory.
#[derive(clap::Args)]
pub(crate) struct InventoryArgs {
    /// The ComfyUI to ask (a local one running the worker image, or a pod's URL).
    #[arg(long, env = "COMFYUI_URL", default_value = crate::targets::COMFYUI_DEFAULT)]
    comfyui: String,
    /// Bearer token for a proxy in front of ComfyUI.
    #[arg(long, env = "COMFYUI_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// `user:password` for basic auth in front of ComfyUI.
    #[arg(long, env = "COMFYUI_BASIC_AUTH", hide_env_values = true)]
    basic_auth: Option<String>,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
}

impl InventoryArgs {
    pub(crate) fn run(self) -> ExitCode {
        let client = match ComfyClient::new(
            &self.comfyui,
            self.token.as_deref(),
            self.basic_auth.as_deref(),
        ) {
            Ok(c) => c,
            Err(e) => return fail(&e.to_string()),
        };
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => return fail(&format!("cannot start a runtime: {e}")),
        };
        let info = match rt.block_on(client.object_info()) {
            Ok(v) => v,
            Err(e) => return fail(&format!("{} {e}", client.display())),
        };
        let inv = match Inventory::from_value(&info) {
            Ok(inv) => inv,
            Err(e) => return fail(&format!("{}: not a node inventory: {e}", client.display())),
        };
        let text = format!(
            "{}\n",
            serde_json::to_string_pretty(&info).expect("JSON serialises")
        );
        let written = match &self.out {
            Some(path) => crate::paths::write(path, text.as_bytes()).map_err(|e| e.to_string()),
            None => std::io::stdout()
                .write_all(text.as_bytes())
                .map_err(|e| e.to_string()),
        };
        if let Err(e) = written {
            return fail(&e);
        }
        eprintln!("{} node types from {}", inv.len(), client.display());
        ExitCode::SUCCESS
    }
}

/// `convert --inventory FILE UI.json`: print the API-format graph.
#[derive(clap::Args)]
pub(crate) struct ConvertArgs {
    /// The node inventory (`endpoint-harness inventory --comfyui URL > inventory.json`).
    #[arg(long, env = "HARNESS_INVENTORY", value_name = "FILE")]
    inventory: PathBuf,
    /// A ComfyUI UI-format save (or any workflow file the harness reads).
    file: PathBuf,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
}

impl ConvertArgs {
    pub(crate) fn run(self) -> ExitCode {
        let inv = match Inventory::load(&self.inventory) {
            Ok(inv) => inv,
            Err(e) => return fail(&e.to_string()),
        };
        let text = match std::fs::read_to_string(&self.file) {
            Ok(t) => t,
            Err(e) => return fail(&format!("cannot read {}: {e}", self.file.display())),
        };
        let graph = match crate::scenario::workflow::from_json_text(&text, Some(&inv)) {
            Ok(g) => g,
            Err(p) => {
                let at = p.at.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default();
                let help = p
                    .help
                    .map(|h| format!("\n  = help: {h}"))
                    .unwrap_or_default();
                return fail(&format!("{}{at}: {}{help}", self.file.display(), p.message));
            }
        };
        let out = format!(
            "{}\n",
            serde_json::to_string_pretty(&serde_json::Value::Object(graph))
                .expect("JSON serialises")
        );
        let written = match &self.out {
            Some(path) => crate::paths::write(path, out.as_bytes()).map_err(|e| e.to_string()),
            None => std::io::stdout()
                .write_all(out.as_bytes())
                .map_err(|e| e.to_string()),
        };
        match written {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e),
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(1)
}
