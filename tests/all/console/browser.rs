//! The console in a real browser: Debian's headless Chromium, driven over WebDriver
//! (`chromedriver`, from `scripts/test-deps.sh`) with fantoccini, kept off every network but
//! loopback. A support person's bad morning, step by step: sign in, read the summary, filter
//! the queue, open the rejected letter (its reason, its PDF), resend a group, correct an
//! input, mark a problem handled, reveal a CPR number and find that on the audit page; a
//! viewer has no resend button and their POST is refused; a form on another site is refused.
//! `FLSPOST_SCREENSHOTS=DIR` keeps the summary, queue and message pages as PNGs (the README's).

use super::{bad_morning, sample_cprs, value_of, Client, Server, OPERATOR, VIEWER};
use crate::common::console::{browser, click, png, sign_in, text, Driver};
use crate::common::{exclusive, World};
use fantoccini::{Client as Browser, Locator};

/// Keeps the page as `name` under `FLSPOST_SCREENSHOTS`, when it is set.
async fn shot(b: &Browser, name: &str) {
    let png = png(b).await;
    if let Some(dir) = std::env::var_os("FLSPOST_SCREENSHOTS") {
        std::fs::write(std::path::Path::new(&dir).join(name), png).unwrap();
    }
}

/// The journal's messages, counted on a thread of its own: the PostgreSQL client blocks on a
/// runtime of its own, which it cannot start on the thread that drives the browser's.
fn messages(w: &World) -> i64 {
    std::thread::scope(|s| {
        s.spawn(|| w.db().query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0)).unwrap()).join().unwrap()
    })
}

#[test]
fn a_support_person_s_bad_morning_in_the_browser() {
    let _exclusive = exclusive();
    let mut w = World::new();
    let cfg = bad_morning(&mut w);
    let s = Server::start(&w, &cfg);
    let driver = Driver::start();
    let base = s.url.clone();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let b = browser(&driver, &w.path("profile")).await;
        sign_in(&b, &base, OPERATOR).await;

        // The summary: the morning's problems by cause, what to do, the transports.
        let summary = text(&b).await;
        for cause in ["xctl_refused/problem_med_modtagerID", "unanswered", "input_refused/site"] {
            assert!(summary.contains(cause), "the summary names {cause}:\n{summary}");
        }
        assert!(summary.contains("4\nopen problems"), "{summary}");
        shot(&b, "summary.png").await;

        // The queue, then only the unanswered.
        click(&b, "nav a[href='/queue']").await;
        shot(&b, "queue.png").await;
        b.find(Locator::Css("input[name=cause]")).await.unwrap().send_keys("unanswered").await.unwrap();
        click(&b, "form.filters button").await;
        let rows = b.find_all(Locator::Css("table.queue tbody tr")).await.unwrap();
        assert_eq!(rows.len(), 2, "two letters unanswered an hour later");

        // Resend that group: select both, resend.
        for c in b.find_all(Locator::Css("input[name=id]")).await.unwrap() {
            c.click().await.unwrap();
        }
        click(&b, "button[value=resend]").await;
        let done = text(&b).await;
        assert_eq!(done.matches("resent as message").count(), 2, "{done}");

        // The rejected letter: its reason, what to do, the patient's PDF in the page.
        b.goto(&format!("{base}/messages/3")).await.unwrap();
        let page = text(&b).await;
        assert!(page.contains("rejected") && page.contains("problem_med_modtagerID"), "{page}");
        assert!(page.contains("What to do:"), "{page}");
        let frame = b.find(Locator::Css("iframe.pdf")).await.unwrap().attr("src").await.unwrap().unwrap();
        let cookie = b.get_named_cookie("flspost_session").await.unwrap();
        let mut http = Client::new(&s);
        http.cookies.push(("flspost_session".into(), cookie.value().to_string()));
        let pdf = http.get(&frame);
        assert_eq!(pdf.header("content-type"), Some("application/pdf"));
        assert!(pdf.body.starts_with(b"%PDF-"));
        shot(&b, "message.png").await;

        // Correct its input: the GP's ydernummer was wrong.
        click(&b, "a[href='/messages/3/correct']").await;
        let area = b.find(Locator::Css("textarea[name=input]")).await.unwrap();
        let stored = area.prop("value").await.unwrap().unwrap();
        assert!(stored.contains("\"054496\""), "{stored}");
        area.clear().await.unwrap();
        area.send_keys(&stored.replace("\"054496\"", "\"054497\"")).await.unwrap();
        // Posted to the form's own address: waited for by the answer's heading.
        b.find(Locator::Css("form[action='/messages/3/correct'] button")).await.unwrap().click().await.unwrap();
        b.wait().for_element(Locator::XPath("//h1[.='Correction']")).await.unwrap();
        let done = text(&b).await;
        assert!(done.contains("corrected"), "{done}");

        // Mark the RANDERS input handled with a note.
        b.goto(&format!("{base}/queue")).await.unwrap();
        b.find(Locator::Css("input[name=id][value=R1]")).await.unwrap().click().await.unwrap();
        b.find(Locator::Css("input[name=note]")).await.unwrap().send_keys("RANDERS has no FLS arrangement").await.unwrap();
        click(&b, "button[value=handle]").await;
        assert!(text(&b).await.contains("R1: handled"));

        // Reveal a CPR number, and find that on the audit page.
        b.goto(&format!("{base}/messages/3")).await.unwrap();
        assert!(!b.source().await.unwrap().contains(&sample_cprs()[3]));
        click(&b, "form[action='/messages/3/reveal'] button").await;
        assert!(text(&b).await.contains(&sample_cprs()[3]));
        click(&b, "nav a[href='/audit']").await;
        let audit = b.find(Locator::Css("tr.audit.reveal-cpr")).await.unwrap().text().await.unwrap();
        assert!(audit.contains(OPERATOR.0) && audit.contains("message 3") && audit.contains("127.0.0.1"), "{audit}");
        let audit = text(&b).await;
        for act in ["sign-in", "resend", "correct", "handle", "export-input", "export-pdf"] {
            assert!(audit.contains(act), "the audit page lists {act}:\n{audit}");
        }

        // A page on another site posting to the console: the browser sends no session
        // cookie (SameSite=Strict) and the server changes nothing.
        let before = messages(&w);
        let forged = format!(
            "data:text/html,<form method=post action='{base}/messages/5/resend'><input name=csrf value=x><button>go</button></form>"
        );
        b.goto(&forged).await.unwrap();
        click(&b, "button").await;
        let after = messages(&w);
        assert_eq!(after, before, "a cross-site form resent a letter");

        // A viewer: no resend button, and the POST is refused.
        b.delete_all_cookies().await.unwrap();
        sign_in(&b, &base, VIEWER).await;
        b.goto(&format!("{base}/messages/7")).await.unwrap();
        assert!(b.find_all(Locator::Css("form[action$='/resend']")).await.unwrap().is_empty(), "a viewer sees no resend");
        b.goto(&format!("{base}/queue")).await.unwrap();
        assert!(b.find_all(Locator::Css("button[value=resend]")).await.unwrap().is_empty());
        let cookie = b.get_named_cookie("flspost_session").await.unwrap();
        let mut http = Client::new(&s);
        http.cookies.push(("flspost_session".into(), cookie.value().to_string()));
        let csrf = value_of(&http.get("/").text(), "csrf").unwrap();
        assert_eq!(http.post("/messages/7/resend", &[("csrf", &csrf)]).status, 403);
        b.close().await.unwrap();
    });
}
