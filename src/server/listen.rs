//! Where the server listens, and how: loopback by default; any other address only with TLS
//! (rustls, the config's certificate chain and key) or the config's explicit statement that
//! a reverse proxy terminates TLS in front of it. A session cookie never crosses a network in
//! the clear.

use flspost::app::config::ServerConfig;
use flspost::error::{Error, Result};
use std::net::SocketAddr;

pub struct Plan {
    pub addr: SocketAddr,
    pub tls: Option<axum_server::tls_rustls::RustlsConfig>,
    /// Cookies marked Secure: TLS here, or at the proxy in front.
    pub secure_cookies: bool,
}

/// Whether `addr` is reachable only from this host.
fn loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Why `addr` may not be listened on with this config, if it may not.
pub fn refused(addr: &SocketAddr, tls: bool, proxy: bool) -> Option<String> {
    if loopback(addr) || tls || proxy {
        return None;
    }
    Some(format!(
        "[server] listen = \"{addr}\": beyond loopback the console's passwords and session cookies would cross the \
         network in the clear; set tls_cert and tls_key, or behind_tls_proxy = true when a reverse proxy terminates \
         TLS (then listen on 127.0.0.1 behind it where you can)"
    ))
}

pub fn plan(c: &ServerConfig) -> Result<Plan> {
    let text = c.listen.as_deref().unwrap_or(ServerConfig::DEFAULT_LISTEN);
    let addr: SocketAddr = text.parse().map_err(|_| {
        Error::Usage(format!("[server] listen = \"{text}\": expected an IP address and port (127.0.0.1:8470)"))
    })?;
    let tls_set = c.tls_cert.is_some() && c.tls_key.is_some();
    if let Some(why) = refused(&addr, tls_set, c.behind_tls_proxy) {
        return Err(Error::Usage(why));
    }
    let tls = match (&c.tls_cert, &c.tls_key) {
        (Some(cert), Some(key)) => Some(rustls_config(cert, key)?),
        _ => None,
    };
    Ok(Plan { addr, secure_cookies: tls.is_some() || c.behind_tls_proxy, tls })
}

fn rustls_config(cert: &std::path::Path, key: &std::path::Path) -> Result<axum_server::tls_rustls::RustlsConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |p: &std::path::Path, e: String| Error::Usage(format!("[server] {}: {e}", p.display()));
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, format!("cannot read the certificate chain: {e}")))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(cert, format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(bad(cert, "holds no certificate".into()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, format!("not a PEM private key: {e}")))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| bad(cert, format!("the certificate and key do not go together: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(axum_server::tls_rustls::RustlsConfig::from_config(std::sync::Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::refused;

    #[test]
    fn beyond_loopback_only_with_tls_or_a_proxy() {
        let any: std::net::SocketAddr = "0.0.0.0:8470".parse().unwrap();
        let lan: std::net::SocketAddr = "192.0.2.7:8470".parse().unwrap();
        let lo: std::net::SocketAddr = "127.0.0.1:8470".parse().unwrap();
        let lo6: std::net::SocketAddr = "[::1]:8470".parse().unwrap();
        assert!(refused(&lo, false, false).is_none());
        assert!(refused(&lo6, false, false).is_none());
        assert!(refused(&any, false, false).is_some());
        assert!(refused(&lan, false, false).is_some());
        assert!(refused(&any, true, false).is_none());
        assert!(refused(&lan, false, true).is_none());
    }
}
