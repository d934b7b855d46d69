//! Browser tests: a real headless Chromium (Debian's `chromium` and `chromium-driver`) driven
//! through WebDriver against the real application on loopback. Screenshots of the pages go to
//! `tests/artifacts/` (ignored by git) to be looked at.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

// Shared with the API tests; not every helper is used here.
#[allow(dead_code)]
#[path = "../helpers/mod.rs"]
mod helpers;

use helpers::{PASSWORD, Party, TestApp, free_port, spawn_app};

struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// The child is moved into `Driver`, whose Drop kills and waits for it.
#[allow(clippy::zombie_processes)]
async fn chromedriver() -> Driver {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver runs the browser tests: apt-get install chromium chromium-driver");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Driver(child, port);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not start");
}

/// A fresh headless browser window with its own profile and no network but loopback.
async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    browser_in(driver, profile, "en").await
}

/// Counts, from the first line of every page on, each timer and animation frame it asks for:
/// `window.__timers` holds `[kind, delay, when]`. Registered through chromedriver's CDP endpoint
/// so that it runs before the page's own scripts.
#[derive(Debug)]
struct WatchTimers;

const WATCH_TIMERS: &str = "window.__timers = [];
  for (const name of ['setTimeout', 'setInterval', 'requestAnimationFrame', 'requestIdleCallback']) {
    const original = window[name];
    window[name] = function (callback, delay, ...rest) {
      window.__timers.push([name, name.startsWith('set') ? (delay || 0) : 0, performance.now()]);
      return original.call(this, callback, delay, ...rest);
    };
  }";

impl fantoccini::wd::WebDriverCompatibleCommand for WatchTimers {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"cmd": "Page.addScriptToEvaluateOnNewDocument", "params": {"source": WATCH_TIMERS}});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// [`browser`], asking for pages in `language` (its Accept-Language).
async fn browser_in(driver: &Driver, profile: &std::path::Path, language: &str) -> Client {
    browser_with(driver, profile, language, true).await
}

/// A browser with scripts turned off, as some readers (and some corporate policies) have it.
async fn browser_without_scripts(driver: &Driver, profile: &std::path::Path) -> Client {
    browser_with(driver, profile, "en", false).await
}

async fn browser_with(
    driver: &Driver,
    profile: &std::path::Path,
    language: &str,
    scripts: bool,
) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-quic", "--no-first-run", "--window-size=1280,800",
                     format!("--lang={language}"),
                     format!("--user-data-dir={}", profile.display())],
            "prefs": { "intl.accept_languages": language,
                       "profile.managed_default_content_settings.javascript": if scripts { 1 } else { 2 } },
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.1))
        .await
        .expect("a browser session");
    client
        .issue_cmd(WatchTimers)
        .await
        .expect("the timer watch is installed");
    client
}

async fn click(client: &Client, target: Locator<'_>) {
    client.find(target).await.unwrap().click().await.unwrap();
}

async fn type_into(client: &Client, target: Locator<'_>, text: &str) {
    client
        .find(target)
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// Waits up to 10 s for `target` to appear.
async fn wait_for(client: &Client, target: Locator<'_>) -> fantoccini::elements::Element {
    wait_for_what(client, target, "the element appears").await
}

/// [`wait_for`], failing with `what` was expected.
async fn wait_for_what(
    client: &Client,
    target: Locator<'_>,
    what: &str,
) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(target)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// axe-core (MPL-2.0, Deque Systems), vendored for the accessibility check.
const AXE: &str = include_str!("../fixtures/axe.min.js");

/// Runs axe-core on the page as it is now; any serious or critical violation fails the test,
/// named with the rule and the first offending element.
async fn assert_accessible(client: &Client, name: &str) {
    client.execute(AXE, vec![]).await.unwrap();
    let violations = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then((r) => done(r.violations
               .filter((v) => v.impact === 'serious' || v.impact === 'critical')
               .map((v) => `${v.id} (${v.impact}): ${v.nodes[0].target.join(' ')} — ${v.help}`)));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(violations, json!([]), "{name}: accessibility violations");
}

/// The layout check run on every page the tests screenshot: nothing wider than the window, no
/// row of the list or the thread overlapping the next or holding overlapping parts, no text
/// clipped inside a button or select, no conversation row taller than 120 px.
const LAYOUT_CHECK: &str = r#"
const problems = [];
const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '');
const shown = (e) => e.offsetParent !== null || getComputedStyle(e).position === 'fixed';
const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
const width = document.documentElement.clientWidth;
// What a box that scrolls or clips on its own holds may reach past the window (a wide table,
// the area navigation on a phone, a long file name cut with an ellipsis).
const insideScroller = (node) => {
  for (let p = node.parentElement; p && p !== document.body; p = p.parentElement) {
    if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true;
  }
  return false;
};
if (document.documentElement.scrollWidth > width) problems.push(`the page is ${document.documentElement.scrollWidth}px wide in a ${width}px window`);
for (const selector of ['#conversations > li', '#messages > li']) {
  const rows = [...document.querySelectorAll(selector)].filter(shown);
  rows.forEach((row, i) => {
    const box = row.getBoundingClientRect();
    if (i > 0 && box.top < rows[i - 1].getBoundingClientRect().bottom - 1) problems.push(`${selector} ${i} overlaps the row before it`);
    if (selector.startsWith('#conv') && box.height > 120) problems.push(`conversation row ${i} is ${Math.round(box.height)}px tall`);
    const frame = row.parentElement.getBoundingClientRect();
    if (box.left < frame.left - 1 || box.right > frame.right + 1) problems.push(`${selector} ${i} reaches outside its list (${Math.round(box.left)}–${Math.round(box.right)}px in ${Math.round(frame.left)}–${Math.round(frame.right)}px)`);
    const parts = [...row.querySelectorAll(':scope > *, :scope > a > *, :scope > .meta > *')].filter(shown)
      .filter((p) => !p.contains(row) && p.getBoundingClientRect().width > 0);
    for (let a = 0; a < parts.length; a++) for (let b = a + 1; b < parts.length; b++) {
      if (parts[a].contains(parts[b]) || parts[b].contains(parts[a])) continue;
      if (overlap(parts[a].getBoundingClientRect(), parts[b].getBoundingClientRect())) problems.push(`in ${selector} ${i}, ${name(parts[a])} overlaps ${name(parts[b])}`);
    }
  });
}
for (const control of document.querySelectorAll('button, select, .badge, .count, a.button')) {
  if (!shown(control)) continue;
  if (control.scrollWidth > control.clientWidth + 1 || control.scrollHeight > control.clientHeight + 2) problems.push(`text clipped in ${name(control)}: "${control.textContent.trim().slice(0, 40)}"`);
}
// A select shows its chosen option whole: its text, measured in the select's font, fits inside
// the box less the padding and the arrow.
const ruler = document.createElement('canvas').getContext('2d');
for (const select of document.querySelectorAll('select')) {
  if (!shown(select) || select.selectedIndex < 0) continue;
  const style = getComputedStyle(select);
  ruler.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const text = ruler.measureText(select.options[select.selectedIndex].text).width;
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
  if (text > room) problems.push(`text clipped in ${name(select)}: "${select.options[select.selectedIndex].text}" needs ${Math.round(text)}px of ${Math.round(room)}px`);
}
for (const node of document.querySelectorAll('body *')) {
  if (!shown(node) || insideScroller(node)) continue;
  const box = node.getBoundingClientRect();
  if (box.width > 0 && box.right > width + 1) problems.push(`${name(node)} ends at ${Math.round(box.right)}px in a ${width}px window`);
}
// A catalogue key shown instead of words ("nav-messages") means a message is missing.
const keys = new Set(arguments[0]);
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const text = walker.currentNode.textContent.trim();
  if (keys.has(text) && shown(walker.currentNode.parentElement)) problems.push(`a catalogue key shows: ${text}`);
}
for (const e of document.querySelectorAll('[aria-label], [placeholder], [title]')) {
  for (const a of ['aria-label', 'placeholder', 'title']) {
    const v = e.getAttribute(a);
    if (keys.has(v)) problems.push(`a catalogue key in ${a}: ${v}`);
  }
}
return [...new Set(problems)];
"#;

/// The message ids of the English catalogue, which every other one has too.
fn catalogue_keys() -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/locales/en.ftl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_once(" = ").map(|(key, _)| key.trim()))
        .filter(|key| {
            key.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        // One-word keys ("yes") read the same as their English words.
        .filter(|key| key.contains('-') && !key.starts_with('-'))
        .map(str::to_string)
        .collect()
}

async fn assert_layout(client: &Client, name: &str) {
    let problems = client
        .execute(LAYOUT_CHECK, vec![json!(catalogue_keys())])
        .await
        .unwrap();
    assert_eq!(problems, json!([]), "{name}: layout problems");
}

async fn screenshot(client: &Client, name: &str) {
    assert_accessible(client, name).await;
    screenshot_unaudited(client, name).await;
}

/// [`screenshot`] with the layout check but without axe-core, whose checks need the page's
/// scripts running (for a browser that has them off; the same pages are audited with them on).
async fn screenshot_unaudited(client: &Client, name: &str) {
    assert_layout(client, name).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{name}.png")),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
}

async fn sign_in(client: &Client, base: &str, area: &str, store_code: Option<&str>, email: &str) {
    client.goto(&format!("{base}/{area}/login")).await.unwrap();
    if let Some(code) = store_code {
        type_into(client, Locator::Css("input[name=store_code]"), code).await;
    }
    type_into(client, Locator::Css("input[name=email]"), email).await;
    type_into(client, Locator::Css("input[name=password]"), PASSWORD).await;
    click(client, Locator::Css("form button[type=submit]")).await;
    wait_for(client, Locator::Css("#conversations")).await;
}

/// A store "lumen" with the staff member Anna and the registered customer Clara.
async fn store_with_people() -> (TestApp, Party, Party) {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let store = app.create_store(&admin, "lumen", "business").await;
    let anna = app
        .staff_named(&admin, store, "anna@example.test", "Anna")
        .await;
    let clara = app
        .customer_named("lumen", "clara@example.test", "Clara")
        .await;
    (app, anna, clara)
}

/// A conversation `staff` starts with the customer Clara, opening with "Hello Clara".
async fn conversation_with_clara(
    app: &TestApp,
    staff: &Party,
    clara: &Party,
    subject: &str,
) -> i64 {
    let body = json!({"conversation_type": "store_customer", "subject": subject, "recipient_type": "customer",
                      "recipient_id": clara.id, "initial_message": "Hello Clara"});
    app.start_conversation("vendor", staff, body).await["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_with_an_attachment_reaches_the_open_customer_page_live() {
    let (app, staff, clara) = store_with_people().await;
    let id = conversation_with_clara(&app, &staff, &clara, "Your <b>lamp</b>").await;

    let driver = chromedriver().await;
    let profiles = tempfile::tempdir().unwrap();
    let shop = browser(&driver, &profiles.path().join("shop")).await;
    let vendor = browser(&driver, &profiles.path().join("vendor")).await;

    sign_in(
        &shop,
        &app.address,
        "shop",
        Some("lumen"),
        "clara@example.test",
    )
    .await;
    // The subject is shown as text, never as markup.
    let subject = shop
        .find(Locator::Css("#conversations .subject"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(subject, "Your <b>lamp</b>");
    let badge = shop
        .find(Locator::Id("unread-badge"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(badge, "1");
    screenshot(&shop, "shop-inbox").await;

    sign_in(&vendor, &app.address, "vendor", None, "anna@example.test").await;
    vendor
        .goto(&format!("{}/vendor/messages/{id}", app.address))
        .await
        .unwrap();
    let photo = profiles.path().join("photo.png");
    image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 4, 90]))
        .save(&photo)
        .unwrap();
    type_into(&vendor, Locator::Id("files"), photo.to_str().unwrap()).await;
    let textarea = vendor.find(Locator::Id("content")).await.unwrap();
    textarea
        .send_keys("Your lamp ships today: https://tracking.example.test/42")
        .await
        .unwrap();
    // Enter sends.
    textarea.send_keys("\u{E007}").await.unwrap();
    wait_for(
        &vendor,
        Locator::XPath("//ol[@id='messages']//p[contains(., 'ships today')]"),
    )
    .await;
    screenshot(&vendor, "vendor-thread").await;

    // The customer's open page updates without a reload: the list and the badge.
    let mut updated = false;
    for _ in 0..100 {
        // Read both in one script: the list is re-rendered under our feet.
        let seen = shop
            .execute(
                "return [document.getElementById('unread-badge').textContent,
                         (document.querySelector('#conversations .preview') || {}).textContent || ''];",
                vec![],
            )
            .await
            .unwrap();
        if seen[0] == "2" && seen[1].as_str().unwrap_or_default().contains("ships today") {
            updated = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(updated, "the customer's page did not update live");

    shop.goto(&format!("{}/shop/account/messages/{id}", app.address))
        .await
        .unwrap();
    let message = wait_for(
        &shop,
        Locator::XPath("//ol[@id='messages']/li[contains(., 'ships today')]"),
    )
    .await;
    // The server-rendered thread shows the text; the image shows as a thumbnail.
    assert!(
        message
            .text()
            .await
            .unwrap()
            .contains("https://tracking.example.test/42")
    );
    wait_for(&shop, Locator::Css("#messages .thumb img")).await;
    screenshot(&shop, "shop-thread").await;
    // Reading the thread clears the badge.
    let mut cleared = false;
    for _ in 0..50 {
        let hidden = shop
            .execute(
                "return document.getElementById('unread-badge').hidden;",
                vec![],
            )
            .await
            .unwrap();
        if hidden == json!(true) {
            cleared = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(cleared, "opening the thread clears the badge");

    shop.close().await.unwrap();
    vendor.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_compose_a_conversation_and_close_it_from_the_page() {
    let (app, _staff, _customer) = store_with_people().await;
    let driver = chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let vendor = browser(&driver, profile.path()).await;
    sign_in(&vendor, &app.address, "vendor", None, "anna@example.test").await;
    click(&vendor, Locator::Id("compose-open")).await;
    let search = vendor
        .find(Locator::Css("#compose input[name=recipient_search]"))
        .await
        .unwrap();
    // Wait for the recipient list, then pick Clara.
    for _ in 0..50 {
        let count = vendor
            .execute(
                "return document.querySelectorAll('#recipient-options option').length;",
                vec![],
            )
            .await
            .unwrap();
        if count.as_i64().unwrap_or_default() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    search
        .send_keys("Clara <clara@example.test>")
        .await
        .unwrap();
    type_into(
        &vendor,
        Locator::Css("#compose input[name=subject]"),
        "Spare parts",
    )
    .await;
    type_into(
        &vendor,
        Locator::Css("#compose textarea"),
        "Do you need a spare shade?",
    )
    .await;
    // About an order: the kind chosen, its number and label typed.
    vendor
        .find(Locator::Css("#compose select[name=context_type]"))
        .await
        .unwrap()
        .select_by_value("order")
        .await
        .unwrap();
    type_into(
        &vendor,
        Locator::Css("#compose input[name=context_id]"),
        "1042",
    )
    .await;
    type_into(
        &vendor,
        Locator::Css("#compose input[name=context_label]"),
        "Order #1042",
    )
    .await;
    screenshot(&vendor, "vendor-compose").await;
    click(&vendor, Locator::Css("#compose button[type=submit]")).await;
    let heading = wait_for(&vendor, Locator::XPath("//h1[.='Spare parts']")).await;
    assert_eq!(heading.text().await.unwrap(), "Spare parts");
    let about = wait_for(&vendor, Locator::Css(".context-panel")).await;
    let about = about.text().await.unwrap();
    assert!(
        about.contains("Order #1042") && about.contains("1042"),
        "{about}"
    );

    // A refused upload is explained next to the composer, in words.
    let svg = profile.path().join("drawing.svg");
    std::fs::write(
        &svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
    )
    .unwrap();
    type_into(&vendor, Locator::Id("files"), svg.to_str().unwrap()).await;
    type_into(&vendor, Locator::Id("content"), "a drawing").await;
    click(&vendor, Locator::Css("#composer button[type=submit]")).await;
    let error = wait_for(&vendor, Locator::Css("#composer-error:not([hidden])")).await;
    assert!(
        error.text().await.unwrap().contains("not allowed"),
        "{}",
        error.text().await.unwrap()
    );

    // Mute is remembered.
    click(
        &vendor,
        Locator::Css("#thread-actions button[data-action=mute]"),
    )
    .await;
    for _ in 0..50 {
        let pressed = vendor
            .execute(
                "return document.querySelector('[data-action=mute]').getAttribute('aria-pressed');",
                vec![],
            )
            .await
            .unwrap();
        if pressed == json!("true") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    vendor.refresh().await.unwrap();
    let pressed = vendor
        .execute(
            "return document.querySelector('[data-action=mute]').getAttribute('aria-pressed');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(pressed, json!("true"));
    click(
        &vendor,
        Locator::Css("#thread-actions button[data-action=close]"),
    )
    .await;
    wait_for(&vendor, Locator::XPath(
            "//p[@id='closed-note' and not(@hidden) and contains(., 'This conversation is closed')]",
        )).await;
    assert!(
        vendor.find(Locator::Id("composer")).await.is_err(),
        "no composer on a closed thread"
    );
    screenshot(&vendor, "vendor-closed").await;
    vendor.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_and_vendor_pages_render_and_template_previews_stay_sandboxed() {
    let (app, _staff, _customer) = store_with_people().await;
    let driver = chromedriver().await;
    let profiles = tempfile::tempdir().unwrap();
    let admin = browser(&driver, &profiles.path().join("admin")).await;
    sign_in(&admin, &app.address, "admin", None, "root@example.test").await;
    for (path, name) in [
        ("/admin/stores", "admin-stores"),
        ("/admin/email-templates", "admin-templates"),
        ("/admin/email-logs", "admin-email-logs"),
        ("/admin/notifications", "admin-notifications"),
    ] {
        admin.goto(&format!("{}{path}", app.address)).await.unwrap();
        let heading = admin
            .find(Locator::Css("main h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!heading.is_empty(), "{path}");
        screenshot(&admin, name).await;
        at_phone_width(&admin, name).await;
    }
    // A store's page: its staff can be disabled from the list.
    admin
        .goto(&format!("{}/admin/stores", app.address))
        .await
        .unwrap();
    click(&admin, Locator::LinkText("lumen")).await;
    wait_for(&admin, Locator::XPath("//td[.='anna@example.test']")).await;
    screenshot(&admin, "admin-store").await;
    at_phone_width(&admin, "admin-store").await;
    click(
        &admin,
        Locator::XPath("//tr[td='anna@example.test']//button[.='Disable']"),
    )
    .await;
    wait_for_what(
        &admin,
        Locator::XPath("//tr[td='anna@example.test']/td[.='disabled']"),
        "Anna is disabled",
    )
    .await;
    click(
        &admin,
        Locator::XPath("//tr[td='anna@example.test']//button[.='Enable']"),
    )
    .await;
    wait_for_what(
        &admin,
        Locator::XPath("//tr[td='anna@example.test']/td[.='active']"),
        "Anna is active again",
    )
    .await;
    // An integration key made on its page shows its secret once, on the page.
    admin
        .goto(&format!("{}/admin/api-keys", app.address))
        .await
        .unwrap();
    type_into(
        &admin,
        Locator::Css("form.api-form input[name=name]"),
        "Backend",
    )
    .await;
    click(&admin, Locator::Css("input[name=scopes][value=provision]")).await;
    click(&admin, Locator::Css("form.api-form button[type=submit]")).await;
    let secret = wait_for_what(
        &admin,
        Locator::XPath("//output[@class='key-secret'][starts-with(., 'pk_')]"),
        "the new key is shown",
    )
    .await
    .text()
    .await
    .unwrap();
    assert_eq!(secret.len(), 46);
    screenshot(&admin, "admin-api-key-created").await;
    admin.close().await.unwrap();

    let vendor = browser(&driver, &profiles.path().join("vendor")).await;
    sign_in(&vendor, &app.address, "vendor", None, "anna@example.test").await;
    vendor
        .goto(&format!(
            "{}/vendor/email-templates/new_message/en",
            app.address
        ))
        .await
        .unwrap();
    let body = vendor
        .find(Locator::Css("textarea[name=body_html]"))
        .await
        .unwrap();
    body.clear().await.unwrap();
    body.send_keys("<h2>Hi {{ recipient_name }}</h2><script>document.title='pwned'</script>{{ unsubscribe_url }}").await.unwrap();
    click(&vendor, Locator::Css("button[data-preview]")).await;
    wait_for_what(
        &vendor,
        Locator::XPath("//p[@id='preview-subject'][contains(., 'your version')]"),
        "the preview answered with the store's version",
    )
    .await;
    let frame = vendor
        .execute(
            "const f = document.getElementById('preview'); return [f.getAttribute('sandbox'), f.srcdoc, document.title];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(frame[0], "", "sandboxed with no permissions at all");
    assert!(frame[1].as_str().unwrap().contains("Hi [recipient_name]"));
    assert!(!frame[2].as_str().unwrap().contains("pwned"));
    screenshot(&vendor, "vendor-template-preview").await;
    vendor
        .goto(&format!("{}/vendor/email-settings", app.address))
        .await
        .unwrap();
    vendor
        .find(Locator::Css("input[name=smtp_password]"))
        .await
        .unwrap();
    screenshot(&vendor, "vendor-email-settings").await;
    at_phone_width(&vendor, "vendor-email-settings").await;
    for (path, name) in [
        ("/vendor/email-templates", "vendor-templates"),
        ("/vendor/email-logs", "vendor-email-logs"),
        ("/vendor/customers", "vendor-customers"),
    ] {
        vendor
            .goto(&format!("{}{path}", app.address))
            .await
            .unwrap();
        screenshot(&vendor, name).await;
        at_phone_width(&vendor, name).await;
    }
    // Staff add a customer from the page.
    vendor
        .goto(&format!("{}/vendor/customers", app.address))
        .await
        .unwrap();
    for (field, value) in [("full_name", "Dora Diaz"), ("email", "dora@example.test")] {
        type_into(
            &vendor,
            Locator::Css(&format!("form.api-form input[name={field}]")),
            value,
        )
        .await;
    }
    click(&vendor, Locator::Css("form.api-form button[type=submit]")).await;
    wait_for_what(
        &vendor,
        Locator::XPath("//td[.='dora@example.test']"),
        "the new customer is listed",
    )
    .await;
    vendor.close().await.unwrap();
}

/// The page at 360 px: nothing but a table's own box scrolls sideways, and a screenshot of it
/// (`<name>-phone`); then back to the desktop size.
async fn at_phone_width(client: &Client, name: &str) {
    // The narrowest phone the pages promise to fit.
    client.set_window_size(360, 780).await.unwrap();
    let fits = client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    screenshot(client, &format!("{name}-phone")).await;
    assert_eq!(fits, json!(true), "{name} scrolls sideways at phone width");
    client.set_window_size(1280, 800).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_threads_load_older_messages_and_phones_get_one_column() {
    let (app, staff, clara) = store_with_people().await;
    let conversation = app
        .start_conversation(
            "vendor",
            &staff,
            json!({"conversation_type": "store_customer", "subject": "Long thread", "recipient_type": "customer",
                   "recipient_id": clara.id, "initial_message": "message 0"}),
        )
        .await;
    let id = conversation["id"].as_i64().unwrap();
    for i in 1..60 {
        let sent = app
            .send_message("vendor", &staff, id, &format!("message {i}"))
            .await;
        assert!(sent.status().is_success());
    }
    let driver = chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let shop = browser(&driver, profile.path()).await;
    sign_in(
        &shop,
        &app.address,
        "shop",
        Some("lumen"),
        "clara@example.test",
    )
    .await;
    shop.goto(&format!("{}/shop/account/messages/{id}", app.address))
        .await
        .unwrap();
    let count = || async {
        shop.execute(
            "return document.querySelectorAll('#messages > li[data-id]').length;",
            vec![],
        )
        .await
        .unwrap()
    };
    assert_eq!(count().await, json!(50));
    shop.execute("const t = document.getElementById('messages'); t.scrollTop = 0; t.dispatchEvent(new Event('scroll'));", vec![])
        .await
        .unwrap();
    let mut loaded = false;
    for _ in 0..50 {
        if count().await == json!(60) {
            loaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(loaded, "older messages loaded on scroll");
    let first = shop
        .execute(
            "return document.querySelector('#messages > li .text').textContent;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(first, json!("message 0"));
    // The thread is grouped by day: it opens with the day's separator, older messages included.
    let day = shop
        .execute(
            "const first = document.querySelector('#messages > li');
             return [first.classList.contains('day'), first.textContent.length > 0];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(day, json!([true, true]));

    // At phone width the thread is one screen with a way back, nothing scrolls sideways or
    // down, and the Send button is whole on screen.
    viewport(&shop, 390, 844).await;
    let layout = shop
        .execute(
            "const send = document.querySelector('#composer button[type=submit]').getBoundingClientRect();
             return [document.documentElement.scrollWidth <= window.innerWidth,
                     document.documentElement.scrollHeight <= window.innerHeight,
                     send.bottom <= window.innerHeight && send.top >= 0,
                     getComputedStyle(document.querySelector('.list')).display,
                     getComputedStyle(document.querySelector('.back')).display];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(layout, json!([true, true, true, "none", "inline"]));
    let badge_hidden = shop
        .execute(
            "return document.getElementById('unread-badge').hidden;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(badge_hidden, json!(true), "opening the thread read it");
    screenshot(&shop, "shop-thread-phone").await;
    shop.goto(&format!("{}/shop/account/messages", app.address))
        .await
        .unwrap();
    let list = shop
        .execute(
            "return [document.documentElement.scrollWidth <= window.innerWidth, getComputedStyle(document.querySelector('.list')).display];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(list, json!([true, "block"]));
    screenshot(&shop, "shop-inbox-phone").await;
    shop.close().await.unwrap();
}

/// API requests a page has made so far (fetches and XHRs, from its resource timing).
async fn api_requests(client: &Client) -> i64 {
    client
        .execute(
            "return performance.getEntriesByType('resource')
                 .filter((e) => new URL(e.name).pathname.startsWith('/api/')).length;",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_open_threads_stay_quiet_after_a_message() {
    let (app, staff, clara) = store_with_people().await;
    let id = conversation_with_clara(&app, &staff, &clara, "Quiet please").await;
    let driver = chromedriver().await;
    let profiles = tempfile::tempdir().unwrap();
    let shop = browser(&driver, &profiles.path().join("shop")).await;
    let vendor = browser(&driver, &profiles.path().join("vendor")).await;
    sign_in(
        &shop,
        &app.address,
        "shop",
        Some("lumen"),
        "clara@example.test",
    )
    .await;
    sign_in(&vendor, &app.address, "vendor", None, "anna@example.test").await;
    for (client, path) in [(&shop, "shop/account"), (&vendor, "vendor")] {
        client
            .goto(&format!("{}/{path}/messages/{id}", app.address))
            .await
            .unwrap();
        // Room for every entry, so a flood cannot hide behind the default 250.
        client
            .execute("performance.setResourceTimingBufferSize(100000);", vec![])
            .await
            .unwrap();
    }
    // Both pages settle after opening (the customer's read of the first message included).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = (api_requests(&shop).await, api_requests(&vendor).await);

    let sent = app
        .send_message("vendor", &staff, id, "Your parcel left the warehouse")
        .await;
    assert!(sent.status().is_success());
    wait_for(
        &shop,
        Locator::XPath("//ol[@id='messages']//p[contains(., 'left the warehouse')]"),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let shop_requests = api_requests(&shop).await - before.0;
    let vendor_requests = api_requests(&vendor).await - before.1;
    // Measured before the fix: 2,266 and 2,493 requests. Now the customer's page reloads the
    // thread, the list and the badge, reads the message once, and reloads the list and the badge
    // for that read (6); the store's page refreshes for its message and for the read (5).
    assert!(
        shop_requests <= 6,
        "the customer's page made {shop_requests} requests"
    );
    assert!(
        vendor_requests <= 6,
        "the store's page made {vendor_requests} requests"
    );
    shop.close().await.unwrap();
    vendor.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_fits_a_screen_and_a_close_reaches_the_other_side_live() {
    let (app, staff, clara) = store_with_people().await;
    let mut ids = Vec::new();
    for n in 0..11 {
        let subject =
            format!("Order #10{n:02} with a rather long subject that has to be cut somewhere");
        ids.push(conversation_with_clara(&app, &staff, &clara, &subject).await);
    }
    let id = *ids.last().unwrap();
    let driver = chromedriver().await;
    let profiles = tempfile::tempdir().unwrap();
    let vendor = browser(&driver, &profiles.path().join("vendor")).await;
    viewport(&vendor, 1280, 900).await;
    sign_in(&vendor, &app.address, "vendor", None, "anna@example.test").await;
    let rows = vendor
        .execute(
            "const list = document.querySelector('.list').getBoundingClientRect();
             const rows = [...document.querySelectorAll('#conversations .conversation')].map((r) => r.getBoundingClientRect());
             return [rows.filter((r) => r.bottom <= list.bottom).length, Math.max(...rows.map((r) => r.height)),
                     document.documentElement.scrollWidth <= window.innerWidth,
                     document.querySelector('.filters input[type=search]').getBoundingClientRect().width];",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        rows[0].as_u64().unwrap() >= 8,
        "conversations on one screen: {rows}"
    );
    assert!(rows[1].as_f64().unwrap() <= 120.0, "row height: {rows}");
    assert_eq!(rows[2], json!(true), "no sideways scroll");
    assert!(
        rows[3].as_f64().unwrap() >= 200.0,
        "the search field has room: {rows}"
    );
    screenshot(&vendor, "vendor-inbox").await;

    // A file with a 300-character name and a word longer than any screen.
    let long_name = format!("{}.pdf", "quarterly-statement-".repeat(15));
    let form = reqwest::multipart::Form::new()
        .text("content", format!("Here it is: {}", "x".repeat(120)))
        .part(
            "files",
            reqwest::multipart::Part::bytes(b"%PDF-1.4\n%%EOF\n".to_vec()).file_name(long_name),
        );
    let sent = app
        .client
        .post(app.url(&format!("/api/v1/vendor/messages/{id}/messages")))
        .bearer_auth(&staff.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(sent.status().is_success(), "{}", sent.text().await.unwrap());

    // Anna has the thread open: nothing is seen yet.
    vendor
        .goto(&format!("{}/vendor/messages/{id}", app.address))
        .await
        .unwrap();
    assert!(vendor.find(Locator::Css("#messages .seen")).await.is_err());

    let shop = browser(&driver, &profiles.path().join("shop")).await;
    sign_in(
        &shop,
        &app.address,
        "shop",
        Some("lumen"),
        "clara@example.test",
    )
    .await;
    shop.goto(&format!("{}/shop/account/messages/{id}", app.address))
        .await
        .unwrap();
    shop.find(Locator::Id("composer")).await.unwrap();
    // Clara's page read the thread: Anna's open page says so under her last message, live.
    let seen = wait_for_what(
        &vendor,
        Locator::Css("#messages li.mine:last-of-type .seen"),
        "Seen under Anna's last message",
    )
    .await;
    assert_eq!(seen.text().await.unwrap(), "Seen");
    screenshot(&vendor, "vendor-thread-seen").await;
    let chip = shop
        .execute(
            "const chip = document.querySelector('#messages .chip');
             const message = chip.closest('.message').getBoundingClientRect();
             return [chip.getBoundingClientRect().right <= message.right,
                     chip.querySelector('.chip-size').textContent];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        chip,
        json!([true, "15 B"]),
        "the file chip stays inside its message, with its size"
    );
    let closed = app
        .post(
            &format!("/api/v1/vendor/messages/{id}/close"),
            &staff.token,
            json!({}),
        )
        .await;
    assert!(closed.status().is_success());
    let mut state = json!(null);
    for _ in 0..100 {
        state = shop
            .execute(
                &format!(
                    "const shown = (el) => getComputedStyle(el).display !== 'none';
                     return [!shown(document.getElementById('composer')), !shown(document.getElementById('closed-note')),
                             !!document.querySelector('#conversations [data-id=\"{id}\"] .closed')];"
                ),
                vec![],
            )
            .await
            .unwrap();
        if state == json!([true, false, true]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        state,
        json!([true, false, true]),
        "[reply box hidden, closed note shown, list row closed]"
    );
    screenshot(&shop, "shop-thread-closed-live").await;
    shop.set_window_size(390, 844).await.unwrap();
    at_phone_width(&shop, "shop-thread-closed").await;
    shop.close().await.unwrap();
    vendor.close().await.unwrap();
}

/// Sizes the window so that the page itself gets `width` × `height` (the window's own frame aside).
async fn viewport(client: &Client, width: u32, height: u32) {
    client.set_window_size(width, height).await.unwrap();
    let frame = client
        .execute("return window.outerHeight - window.innerHeight;", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(0) as u32;
    client.set_window_size(width, height + frame).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_keep_loading_across_back_and_forward_and_nothing_private_shows_after_signing_out() {
    let (app, staff, clara) = store_with_people().await;
    conversation_with_clara(&app, &staff, &clara, "Back and forth").await;
    let driver = chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let vendor = browser(&driver, profile.path()).await;
    sign_in(&vendor, &app.address, "vendor", None, "anna@example.test").await;
    // Another store's thread, or none: a page in the site's layout, not JSON.
    vendor
        .goto(&format!("{}/vendor/messages/99999", app.address))
        .await
        .unwrap();
    wait_for(&vendor, Locator::XPath("//h1[.='Not found']")).await;
    screenshot(&vendor, "vendor-not-found").await;
    at_phone_width(&vendor, "vendor-not-found").await;
    vendor
        .goto(&format!("{}/vendor/messages", app.address))
        .await
        .unwrap();
    // Each messages page holds a live stream; twenty navigations with back and forward among
    // them must never run out of the browser's six connections to the server.
    for round in 0..10 {
        vendor
            .goto(&format!("{}/vendor/email-logs", app.address))
            .await
            .unwrap();
        vendor.back().await.unwrap();
        vendor.forward().await.unwrap();
        vendor.back().await.unwrap();
        let what = format!("round {round}: the inbox loads");
        wait_for_what(&vendor, Locator::Css("#conversations .conversation"), &what).await;
    }
    click(&vendor, Locator::Id("logout")).await;
    wait_for(&vendor, Locator::Css("input[name=password]")).await;
    screenshot(&vendor, "vendor-login").await;
    at_phone_width(&vendor, "vendor-login").await;
    vendor.back().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let shown = vendor
        .execute(
            "return [location.pathname, document.body.innerText.includes('Back and forth')];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        shown,
        json!(["/vendor/login", false]),
        "Back after signing out"
    );
    vendor.close().await.unwrap();
}

/// One area's pages: the area, its store code (shop), who signs in, and each path with its name.
type Tour<'a> = (&'a str, Option<&'a str>, &'a str, Vec<(String, &'a str)>);

/// Every page of the three areas, in English and in German, at desktop and phone width: each
/// gets its screenshot (`tests/artifacts/<language>-<page>[-phone].png`), the layout check and
/// axe-core. The data has what makes pages hard: a long subject, an unbroken 300-character file
/// name, an image, a closed conversation, an empty search, another tenant's conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_in_english_and_german_at_desktop_and_phone_width() {
    use reqwest::multipart::{Form, Part};
    let (app, anna, clara) = store_with_people().await;
    let admin = app
        .login(
            "admin",
            json!({"email": "root@example.test", "password": PASSWORD}),
        )
        .await;
    let admin = Party {
        area: "admin",
        token: admin["access_token"].as_str().unwrap().to_string(),
        id: admin["user"]["id"].as_i64().unwrap(),
    };
    let long_subject = "Rücksendung der Bestellung 1042 mit dem beschädigten Lampenschirm aus Leinen, Farbe Sand, und der Frage nach einem Ersatzteil";
    // About a return on the platform, with a link back to it.
    let open = app
        .start_conversation(
            "vendor",
            &anna,
            json!({"conversation_type": "store_customer", "subject": long_subject,
                   "recipient_type": "customer", "recipient_id": clara.id,
                   "initial_message": "Hello Clara",
                   "context": {"type": "return", "id": "R-1042-7", "label": "Return of order 1042",
                               "url": "https://shop.example.test/returns/R-1042-7"}}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let files = Form::new()
        .text("content", "Photo and invoice attached. Supercalifragilisticexpialidocious-unbreakable-word-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-on.")
        .part(
            "files",
            Part::bytes(crate::helpers::png(320, 200))
                .file_name("lampshade.png")
                .mime_str("image/png")
                .unwrap(),
        )
        .part(
            "files",
            Part::bytes(b"%PDF-1.4 invoice".to_vec())
                .file_name(format!("{}.pdf", "invoice-".repeat(37)))
                .mime_str("application/pdf")
                .unwrap(),
        );
    let r = app
        .client
        .post(app.url(&format!("/api/v1/vendor/messages/{open}/messages")))
        .bearer_auth(&anna.token)
        .multipart(files)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    app.send(&clara, open, "Thank you! When will the replacement arrive?")
        .await;
    let closed = conversation_with_clara(&app, &anna, &clara, "Invoice 77").await;
    // One answer for the response-time figures.
    app.send(&clara, closed, "Which invoice?").await;
    app.send(&anna, closed, "The one from May.").await;
    let r = app
        .post(
            &format!("/api/v1/vendor/messages/{closed}/close"),
            &anna.token,
            json!({}),
        )
        .await;
    assert!(r.status().is_success());
    let with_store = app
        .start_conversation(
            "admin",
            &admin,
            json!({"conversation_type": "admin_store", "subject": "Payout schedule", "recipient_type": "store",
                   "recipient_id": anna.id, "store_id": 1, "initial_message": "Payouts move to Fridays."}),
        )
        .await["id"]
        .as_i64()
        .unwrap();

    // A topic, a saved reply and an announcement for their pages.
    for (path, body) in [
        (
            "/api/v1/admin/topics",
            json!({"names": {"en": "Delivery", "de": "Lieferung"}, "roles": ["customer", "store"]}),
        ),
        (
            "/api/v1/admin/saved-replies",
            json!({"title": "Thanks", "body": "Thank you, {{ customer_name }}!", "shared_with_stores": true}),
        ),
        (
            "/api/v1/admin/announcements",
            json!({"subject": "Holiday hours", "message": "We answer slower over the holidays.", "stores": "all"}),
        ),
    ] {
        let r = app.post(path, &admin.token, body).await;
        assert_eq!(r.status(), reqwest::StatusCode::CREATED, "{path}");
    }
    let key: serde_json::Value = app
        .post(
            "/api/v1/admin/api-keys",
            &admin.token,
            json!({"name": "Shop backend (production)", "scopes": ["provision", "events"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let provisioned = app
        .client
        .put(app.url("/api/v1/integration/stores/st-lumen"))
        .bearer_auth(key["key"].as_str().unwrap())
        .json(&json!({"code": "lumen", "name": "Lumen", "tier": "business"}))
        .send()
        .await
        .unwrap();
    assert!(provisioned.status().is_success());
    // A webhook endpoint of the platform with a delivered and a waiting delivery (written
    // directly: the browser tests cannot reach a public receiver).
    app.execute(
        "INSERT INTO webhook_endpoints (id, url, description, event_types, secret_sealed, created_by, cursor_seq, failing_since)
           VALUES (1, 'https://hooks.shop.example.test/parley/events-and-more-events', 'Shop backend', NULL, x'', 'admin:1', 1000000, '2026-03-02 06:21:00+00:00');
         INSERT INTO webhook_endpoints (id, store_id, url, event_types, secret_sealed, created_by, cursor_seq)
           VALUES (2, 1, 'https://erp.lumen.example.test/hooks', '[\"message.created\"]', x'', 'store:2', 1000000);
         INSERT INTO webhook_deliveries (endpoint_id, event_seq, conversation_id, event_type, payload, state, attempts,
                 next_attempt_at, last_attempt_at, last_status, last_response, delivered_at, created_at)
           VALUES (1, 1, 1, 'conversation.created', '{}', 'delivered', 1, '2026-03-02 06:20:00+00:00',
                   '2026-03-02 06:20:00+00:00', 200, '{\"ok\":true}', '2026-03-02 06:20:00+00:00', '2026-03-02 06:20:00+00:00'),
                  (1, 2, 1, 'message.created', '{}', 'pending', 3, '2099-01-01 00:00:00+00:00',
                   '2026-03-02 06:21:00+00:00', 503, 'Service Unavailable: the receiver is down for maintenance until further notice', NULL, '2026-03-02 06:20:30+00:00');",
    )
    .await;
    let driver = chromedriver().await;
    let profiles = tempfile::tempdir().unwrap();
    for language in ["en", "de"] {
        for party in [&admin, &anna, &clara] {
            let r = app
                .patch(
                    &format!("/api/v1/{}/auth/me", party.area),
                    &party.token,
                    json!({"language": language}),
                )
                .await;
            assert!(r.status().is_success());
        }
        let at = |page: &str| format!("{language}-{page}");
        let client = browser_in(
            &driver,
            &profiles.path().join(format!("anon-{language}")),
            language,
        )
        .await;
        for (path, page) in [
            ("/", "home"),
            ("/shop/login", "shop-login"),
            ("/vendor/login", "vendor-login"),
            ("/admin/login", "admin-login"),
            ("/vendor/forgot-password", "vendor-forgot-password"),
            (
                "/shop/reset-password?token=from-the-email&store=lumen",
                "shop-reset-password",
            ),
            (
                "/shop/verify-email?token=from-the-email&store=lumen",
                "shop-verify-email",
            ),
            (
                "/shop/login?store=lumen&done=password-changed",
                "shop-login-after-reset",
            ),
        ] {
            client
                .goto(&format!("{}{path}", app.address))
                .await
                .unwrap();
            let lang = client
                .execute("return document.documentElement.lang;", vec![])
                .await
                .unwrap();
            assert_eq!(lang, json!(language), "{path}");
            screenshot(&client, &at(page)).await;
            at_phone_width(&client, &at(page)).await;
        }
        client.close().await.unwrap();

        let tours: [Tour; 3] = [
            (
                "admin",
                None,
                "root@example.test",
                vec![
                    ("/admin/messages".into(), "admin-inbox"),
                    (format!("/admin/messages/{with_store}"), "admin-thread"),
                    (
                        "/admin/messages?search=nothing-like-this".into(),
                        "admin-empty-search",
                    ),
                    ("/admin/stores".into(), "admin-stores"),
                    ("/admin/stores/1".into(), "admin-store"),
                    ("/admin/email-templates".into(), "admin-templates"),
                    ("/admin/email-templates/1".into(), "admin-template"),
                    ("/admin/email-logs".into(), "admin-email-logs"),
                    ("/admin/notifications".into(), "admin-notifications"),
                    (
                        "/admin/messages?type=store_customer".into(),
                        "admin-stores-customers",
                    ),
                    (format!("/admin/messages/{open}"), "admin-overseen-thread"),
                    ("/admin/response-times".into(), "admin-response-times"),
                    ("/admin/topics".into(), "admin-topics"),
                    ("/admin/saved-replies".into(), "admin-saved-replies"),
                    ("/admin/announcements".into(), "admin-announcements"),
                    ("/admin/audit-log".into(), "admin-audit-log"),
                    ("/admin/settings".into(), "admin-settings"),
                    ("/admin/api-keys".into(), "admin-api-keys"),
                    ("/admin/api-keys/1".into(), "admin-api-key"),
                    ("/admin/webhooks".into(), "admin-webhooks"),
                    ("/admin/webhooks/1".into(), "admin-webhook"),
                    ("/admin/account".into(), "admin-account"),
                    ("/admin/stores/999".into(), "admin-not-found"),
                ],
            ),
            (
                "vendor",
                None,
                "anna@example.test",
                vec![
                    ("/vendor/messages".into(), "vendor-inbox"),
                    (format!("/vendor/messages/{open}"), "vendor-thread"),
                    (format!("/vendor/messages/{closed}"), "vendor-closed"),
                    (
                        "/vendor/messages?context_type=return&context_id=R-1042-7".into(),
                        "vendor-about-a-return",
                    ),
                    ("/vendor/customers".into(), "vendor-customers"),
                    ("/vendor/response-times".into(), "vendor-response-times"),
                    ("/vendor/saved-replies".into(), "vendor-saved-replies"),
                    ("/vendor/team".into(), "vendor-team"),
                    ("/vendor/email-templates".into(), "vendor-templates"),
                    (
                        "/vendor/email-templates/new_message/en".into(),
                        "vendor-template",
                    ),
                    ("/vendor/email-settings".into(), "vendor-email-settings"),
                    ("/vendor/email-logs".into(), "vendor-email-logs"),
                    ("/vendor/webhooks".into(), "vendor-webhooks"),
                    ("/vendor/account".into(), "vendor-account"),
                ],
            ),
            (
                "shop",
                Some("lumen"),
                "clara@example.test",
                vec![
                    ("/shop/account".into(), "shop-account"),
                    ("/shop/account/messages".into(), "shop-inbox"),
                    (format!("/shop/account/messages/{open}"), "shop-thread"),
                    (format!("/shop/account/messages/{closed}"), "shop-closed"),
                    (
                        format!("/shop/account/messages/{with_store}"),
                        "shop-not-found",
                    ),
                ],
            ),
        ];
        for (area, store, email, pages) in tours {
            let client = browser_in(
                &driver,
                &profiles.path().join(format!("{area}-{language}")),
                language,
            )
            .await;
            sign_in(&client, &app.address, area, store, email).await;
            for (path, page) in pages {
                client
                    .goto(&format!("{}{path}", app.address))
                    .await
                    .unwrap();
                wait_for_what(&client, Locator::Css("main h1, #conversations"), &path).await;
                let lang = client
                    .execute("return document.documentElement.lang;", vec![])
                    .await
                    .unwrap();
                assert_eq!(lang, json!(language), "{path}");
                screenshot(&client, &at(page)).await;
                at_phone_width(&client, &at(page)).await;
            }
            if area != "shop" {
                // The compose dialog, open.
                client
                    .goto(&format!("{}/{area}/messages", app.address))
                    .await
                    .unwrap();
                click(&client, Locator::Id("compose-open")).await;
                wait_for(&client, Locator::Css("dialog[open]")).await;
                screenshot(&client, &at(&format!("{area}-compose"))).await;
            }
            client.close().await.unwrap();
        }
    }
}

/// A page left alone does nothing: over five seconds it asks for no timer and no animation
/// frame and makes no request, and nothing it set up since it loaded repeats faster than the
/// 30 s polling fallback (the stream stays open; polling runs only while it is down).
async fn assert_idle(client: &Client, what: &str) {
    let fast = client
        .execute(
            "return window.__timers.filter(([kind, delay]) => kind === 'setInterval' && delay < 30000);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        fast,
        json!([]),
        "{what}: intervals faster than the polling fallback"
    );
    let start = client
        .execute(
            "return [performance.now(), performance.getEntriesByType('resource').length];",
            vec![],
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let done = client
        .execute(
            "const [since, requests] = arguments;
             return [window.__timers.filter(([, , at]) => at > since),
                     performance.getEntriesByType('resource').length - requests];",
            vec![start[0].clone(), start[1].clone()],
        )
        .await
        .unwrap();
    assert_eq!(
        done,
        json!([[], 0]),
        "{what}: work scheduled and requests made while idle"
    );
}

/// The live stream of an open page goes down with the server: the page says so, retries after
/// 2 s, then 4 s, 8 s (not the browser's fixed few seconds), and when the server is back it
/// reconnects on its own and shows what was sent meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_reconnects_with_backoff_after_the_server_comes_back() {
    let (app, staff, clara) = store_with_people().await;
    let id = conversation_with_clara(&app, &staff, &clara, "Still there?").await;
    let driver = chromedriver().await;
    let profiles = tempfile::tempdir().unwrap();
    let vendor = browser(&driver, &profiles.path().join("vendor")).await;
    sign_in(&vendor, &app.address, "vendor", None, "anna@example.test").await;
    vendor
        .goto(&format!("{}/vendor/messages/{id}", app.address))
        .await
        .unwrap();
    wait_for(&vendor, Locator::XPath("//p[contains(., 'Hello Clara')]")).await;
    assert_idle(&vendor, "an open thread").await;

    app.stop.stop().await;
    for seconds in [2, 4, 8] {
        wait_for_what(
            &vendor,
            Locator::XPath(&format!(
                "//p[@id='live-status'][contains(., 'in {seconds} s')]"
            )),
            &format!("the page waits {seconds} s before its next try"),
        )
        .await;
    }
    screenshot(&vendor, "vendor-offline").await;
    let app = app.start_again_on_the_same_port().await;
    let sent = app.send(&clara, id, "Yes, I am here").await;
    assert!(sent.status().is_success());
    // The next try comes at most ~19 s later (16 s with jitter).
    vendor
        .wait()
        .at_most(Duration::from_secs(25))
        .for_element(Locator::XPath(
            "//ol[@id='messages']//p[contains(., 'Yes, I am here')]",
        ))
        .await
        .expect("the message sent while the page was offline shows once it is back");
    let status_hidden = vendor
        .execute(
            "return document.getElementById('live-status').hidden;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status_hidden, json!(true), "the offline line is gone");
    vendor.close().await.unwrap();
}

/// Presses Tab until the focused element matches `selector` (at most 60 times) and checks that
/// the focus is visible there: an outline on the element, or on the label that stands for it.
async fn tab_to(client: &Client, selector: &str) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    for _ in 0..60 {
        // A key press to the page, not to an element: typed into a file input, Tab would be
        // taken for a file name.
        let tab = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: '\u{E004}' })
            .then(KeyAction::Up { value: '\u{E004}' });
        client.perform_actions(tab).await.unwrap();
        let here = client
            .execute(
                "const e = document.activeElement;
                 if (!e.matches(arguments[0])) return null;
                 const face = e.labels && e.labels.length && getComputedStyle(e).opacity === '0' ? e.labels[0] : e;
                 return getComputedStyle(face).outlineStyle;",
                vec![json!(selector)],
            )
            .await
            .unwrap();
        if let Some(outline) = here.as_str() {
            assert_ne!(outline, "none", "the focus on {selector} is visible");
            return;
        }
    }
    panic!("Tab never reaches {selector}");
}

/// Types into whatever has the focus (WebDriver keys: Enter is \u{E007}).
async fn keys(client: &Client, text: &str) {
    client
        .active_element()
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// The whole messages flow with the keyboard alone: skip to the content, open a thread, reply,
/// attach a file, start a conversation in the dialog, close a conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_messages_flow_works_with_the_keyboard_alone() {
    let (app, staff, clara) = store_with_people().await;
    conversation_with_clara(&app, &staff, &clara, "Keyboard only").await;
    let driver = chromedriver().await;
    let profiles = tempfile::tempdir().unwrap();
    let vendor = browser(&driver, &profiles.path().join("vendor")).await;
    sign_in(&vendor, &app.address, "vendor", None, "anna@example.test").await;

    // The first Tab reaches the skip link, which shows itself.
    tab_to(&vendor, "a.skip-link").await;
    let top = vendor
        .execute(
            "return document.activeElement.getBoundingClientRect().top >= 0;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(top, json!(true), "the focused skip link is on screen");
    screenshot(&vendor, "vendor-keyboard-skip-link").await;

    // Open the thread from the list.
    tab_to(&vendor, "#conversations a").await;
    keys(&vendor, "\u{E007}").await;
    wait_for(&vendor, Locator::Css("#composer")).await;

    // Reply with Enter, then attach a file from the keyboard and send it with the Send button.
    tab_to(&vendor, "#content").await;
    keys(&vendor, "Typed without a mouse\u{E007}").await;
    wait_for(
        &vendor,
        Locator::XPath("//ol[@id='messages']//p[contains(., 'Typed without a mouse')]"),
    )
    .await;
    tab_to(&vendor, "#files").await;
    let note = profiles.path().join("note.txt");
    std::fs::write(&note, "a note").unwrap();
    keys(&vendor, note.to_str().unwrap()).await;
    wait_for_what(
        &vendor,
        Locator::XPath("//ul[@id='files-chosen']//span[.='note.txt']"),
        "the chosen file shows as a chip",
    )
    .await;
    tab_to(&vendor, "#composer button[type=submit]").await;
    keys(&vendor, "\u{E007}").await;
    wait_for(
        &vendor,
        Locator::XPath("//ol[@id='messages']//a[@class='chip'][contains(., 'note.txt')]"),
    )
    .await;

    // Start a conversation in the dialog: its fields in Tab order, Enter submits.
    tab_to(&vendor, "#compose-open").await;
    keys(&vendor, "\u{E007}").await;
    wait_for(&vendor, Locator::Css("dialog[open]")).await;
    tab_to(&vendor, "dialog input[name=recipient_search]").await;
    // What picking "Clara <clara@example.test>" from the suggestions puts in the field.
    keys(&vendor, "Clara <clara@example.test>").await;
    wait_for(
        &vendor,
        Locator::Css("#recipient-options option[value='Clara <clara@example.test>']"),
    )
    .await;
    tab_to(&vendor, "dialog input[name=subject]").await;
    keys(&vendor, "Started from the keyboard").await;
    tab_to(&vendor, "dialog textarea[name=initial_message]").await;
    keys(&vendor, "Hello again").await;
    tab_to(&vendor, "dialog button[type=submit]").await;
    keys(&vendor, "\u{E007}").await;
    let said = vendor
        .execute(
            "return document.getElementById('compose-error')?.textContent;",
            vec![],
        )
        .await
        .unwrap();
    wait_for_what(
        &vendor,
        Locator::XPath("//h1[.='Started from the keyboard']"),
        &format!("the new conversation opens (the dialog said {said})"),
    )
    .await;

    // Close it with the keyboard: the reply box goes, the closed note shows.
    tab_to(&vendor, "#thread-actions button[data-action=close]").await;
    keys(&vendor, "\u{E007}").await;
    wait_for_what(
        &vendor,
        Locator::XPath("//p[@id='closed-note'][not(@hidden)]"),
        "the conversation is closed",
    )
    .await;
    screenshot(&vendor, "vendor-keyboard-closed").await;
    vendor.close().await.unwrap();
}

/// Without scripts, the pages still do the main things: sign in, open a thread, reply with a
/// file, close it (each a plain form post and a new page).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_scripts_staff_reply_with_a_file_and_close_the_conversation() {
    let (app, staff, clara) = store_with_people().await;
    let id = conversation_with_clara(&app, &staff, &clara, "Plain HTML").await;
    let driver = chromedriver().await;
    let profiles = tempfile::tempdir().unwrap();
    let vendor = browser_without_scripts(&driver, &profiles.path().join("vendor")).await;
    let scripts = vendor.execute("return 1;", vec![]).await;
    // WebDriver's own scripts still run; the page's do not (no script-made day separator).
    assert!(scripts.is_ok());
    sign_in(&vendor, &app.address, "vendor", None, "anna@example.test").await;
    click(
        &vendor,
        Locator::XPath("//a[span[@class='subject'][.='Plain HTML']]"),
    )
    .await;
    wait_for(&vendor, Locator::Css("#composer")).await;
    assert!(
        vendor
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with(&format!("/{id}"))
    );
    let separators = vendor
        .find_all(Locator::Css("#messages li.day"))
        .await
        .unwrap();
    assert!(separators.is_empty(), "the page's scripts are off");
    type_into(&vendor, Locator::Id("content"), "Sent without scripts").await;
    let note = profiles.path().join("plain.txt");
    std::fs::write(&note, "plain").unwrap();
    type_into(&vendor, Locator::Id("files"), note.to_str().unwrap()).await;
    click(&vendor, Locator::Css("#composer button[type=submit]")).await;
    wait_for(
        &vendor,
        Locator::XPath("//ol[@id='messages']//p[.='Sent without scripts']"),
    )
    .await;
    wait_for(
        &vendor,
        Locator::XPath("//a[@class='chip'][contains(., 'plain.txt')]"),
    )
    .await;
    click(&vendor, Locator::Css("button[data-action=close]")).await;
    wait_for_what(
        &vendor,
        Locator::Css("button[data-action=reopen]"),
        "the conversation is closed and offers to reopen",
    )
    .await;
    screenshot_unaudited(&vendor, "vendor-without-scripts-closed").await;
    // What only scripts can do is not offered; signing out is a form like the rest.
    for control in ["#compose-open", "button[data-action=mute]", "button.delete"] {
        let shown = vendor
            .find(Locator::Css(control))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap();
        assert!(!shown, "{control} is hidden without scripts");
    }
    click(&vendor, Locator::Id("logout")).await;
    wait_for_what(
        &vendor,
        Locator::Css("form[action='/vendor/login']"),
        "signed out",
    )
    .await;
    vendor
        .goto(&format!("{}/vendor/messages/{id}", app.address))
        .await
        .unwrap();
    wait_for_what(
        &vendor,
        Locator::Css("form[action='/vendor/login']"),
        "the session is over",
    )
    .await;
    vendor.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_reference_draws_the_document_offline() {
    let app = spawn_app().await;
    let driver = chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;
    client
        .goto(&format!("{}/api/docs", app.address))
        .await
        .unwrap();
    wait_for(&client, Locator::Css("details.op")).await;
    let operations = client
        .execute(
            "return document.querySelectorAll('details.op').length;",
            vec![],
        )
        .await
        .unwrap();
    assert!(operations.as_i64().unwrap() > 120, "{operations}");
    // One operation opened, as a reader would.
    client
        .execute(
            "document.querySelector('details.op').open = true; window.scrollTo(0, 0);",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&client, "api-docs").await;
    at_phone_width(&client, "api-docs").await;
    client.close().await.unwrap();
}

/// The marketplace flows in the pages: a customer asks the store from the shop's compose dialog,
/// asks the platform to step in from the thread, the store writes an internal note with the
/// composer's toggle, and the customer's page never shows it; the admin reads and resolves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_asks_escalates_and_the_store_writes_a_note_the_customer_never_sees() {
    let (app, anna, _clara) = store_with_people().await;
    let admin = app.admin("ops@example.test").await;
    app.set_setting(&admin, "customers_may_start_conversations", json!(true))
        .await;
    let driver = chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let shop = browser(&driver, profile.path()).await;
    sign_in(
        &shop,
        &app.address,
        "shop",
        Some("lumen"),
        "clara@example.test",
    )
    .await;
    click(&shop, Locator::Id("compose-open")).await;
    // Writing to the store names nobody: the recipient field gives way to a note.
    let hidden = shop
        .execute(
            "return document.getElementById('compose-recipient').hidden
                 && !document.getElementById('compose-team').hidden;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(hidden, json!(true));
    type_into(
        &shop,
        Locator::Css("#compose input[name=subject]"),
        "Where is order 1042?",
    )
    .await;
    type_into(
        &shop,
        Locator::Css("#compose textarea"),
        "It has not arrived yet.",
    )
    .await;
    screenshot(&shop, "shop-compose").await;
    click(&shop, Locator::Css("#compose button[type=submit]")).await;
    wait_for(&shop, Locator::XPath("//h1[.='Where is order 1042?']")).await;
    let id: i64 = shop
        .current_url()
        .await
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(app.unread(&anna).await, 1);

    // The customer asks the platform to step in, from the thread.
    click(&shop, Locator::Css("details.escalate summary")).await;
    type_into(
        &shop,
        Locator::Css(".escalate-form textarea"),
        "Nobody answers me.",
    )
    .await;
    screenshot_unaudited(&shop, "shop-escalate").await;
    click(&shop, Locator::Css(".escalate-form button[type=submit]")).await;
    wait_for(&shop, Locator::Css(".banner.escalated")).await;

    // The store writes an internal note with the composer's toggle.
    let vendor_profile = tempfile::tempdir().unwrap();
    let vendor = browser(&driver, vendor_profile.path()).await;
    sign_in(&vendor, &app.address, "vendor", None, "anna@example.test").await;
    vendor
        .goto(&format!("{}/vendor/messages/{id}", app.address))
        .await
        .unwrap();
    wait_for(&vendor, Locator::Css(".banner.escalated")).await;
    click(&vendor, Locator::Css("#composer input[name=internal]")).await;
    type_into(
        &vendor,
        Locator::Css("#composer textarea"),
        "Platform: the parcel is lost, we refund.",
    )
    .await;
    click(&vendor, Locator::Css("#composer button[type=submit]")).await;
    wait_for(&vendor, Locator::Css("#messages li.message.internal")).await;
    type_into(
        &vendor,
        Locator::Css("#composer textarea"),
        "Clara, we are on it.",
    )
    .await;
    click(&vendor, Locator::Css("#composer input[name=internal]")).await;
    click(&vendor, Locator::Css("#composer button[type=submit]")).await;
    wait_for_what(
        &vendor,
        Locator::XPath("//li[contains(@class,'mine') and not(contains(@class,'internal'))]//p[.='Clara, we are on it.']"),
        "the public answer",
    )
    .await;
    screenshot(&vendor, "vendor-thread-escalated").await;
    at_phone_width(&vendor, "vendor-thread-escalated").await;

    // The customer's page shows the answer, never the note.
    wait_for_what(
        &shop,
        Locator::XPath("//p[.='Clara, we are on it.']"),
        "the answer, live",
    )
    .await;
    shop.refresh().await.unwrap();
    wait_for(&shop, Locator::XPath("//p[.='Clara, we are on it.']")).await;
    let source = shop.source().await.unwrap();
    assert!(
        !source.contains("parcel is lost"),
        "the note reached the customer's page"
    );
    assert!(
        !source.contains("name=\"internal\""),
        "customers get no note toggle"
    );
    screenshot(&shop, "shop-thread-escalated").await;
    at_phone_width(&shop, "shop-thread-escalated").await;

    // The admin reads it and resolves it.
    let admin_profile = tempfile::tempdir().unwrap();
    let operator = browser(&driver, admin_profile.path()).await;
    sign_in(&operator, &app.address, "admin", None, "ops@example.test").await;
    operator
        .goto(&format!("{}/admin/messages/{id}", app.address))
        .await
        .unwrap();
    wait_for(&operator, Locator::Css("#messages li.message.internal")).await;
    screenshot(&operator, "admin-thread-escalated").await;
    click(&operator, Locator::Css("button[data-action=resolve]")).await;
    wait_for_what(
        &operator,
        Locator::XPath("//li[contains(@class,'system')]//span[contains(.,'Escalation resolved')]"),
        "the resolved note",
    )
    .await;
    for client in [shop, vendor, operator] {
        client.close().await.unwrap();
    }
}

/// An admin reads a store's conversation through oversight: the page says so, offers nothing to
/// write, and the read lands in the audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_oversees_a_store_conversation_read_only() {
    let (app, anna, clara) = store_with_people().await;
    let _admin = app.admin("ops@example.test").await;
    let id = conversation_with_clara(&app, &anna, &clara, "Lamp colours").await;
    let driver = chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let operator = browser(&driver, profile.path()).await;
    sign_in(&operator, &app.address, "admin", None, "ops@example.test").await;
    operator
        .goto(&format!(
            "{}/admin/messages?type=store_customer",
            app.address
        ))
        .await
        .unwrap();
    click(
        &operator,
        Locator::XPath("//span[@class='subject' and .='Lamp colours']"),
    )
    .await;
    wait_for(&operator, Locator::Css(".banner.oversight")).await;
    let writable = operator
        .execute(
            "return !!document.getElementById('composer') || !!document.getElementById('thread-actions');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(writable, json!(false));
    screenshot(&operator, "admin-oversight").await;
    at_phone_width(&operator, "admin-oversight").await;
    assert_eq!(
        app.query_i64(
            "SELECT count(*) FROM audit_log WHERE action = 'conversation.read' AND conversation_id = ?1",
            vec![id]
        )
        .await,
        1
    );
    assert_eq!(
        app.unread(&clara).await,
        1,
        "the read changed nobody's count"
    );
    operator.close().await.unwrap();
}

/// Working a busy inbox in the pages: the store files a conversation under a topic, assigns it
/// to a colleague, and answers with a saved reply filled in for the customer; the admin sends an
/// announcement and sees it delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_file_assign_and_answer_with_a_saved_reply_and_the_admin_announces() {
    let (app, anna, clara) = store_with_people().await;
    let admin = app.admin("ops@example.test").await;
    let ben = app.staff_named(&admin, 1, "ben@example.test", "Ben").await;
    let r = app
        .post(
            "/api/v1/admin/topics",
            &admin.token,
            json!({"names": {"en": "Delivery", "de": "Lieferung"}, "roles": ["customer", "store"]}),
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let r = app
        .post(
            "/api/v1/admin/saved-replies",
            &admin.token,
            json!({"title": "Thanks", "body": "Thank you, {{ customer_name }}! {{ store_name }} is on it.", "shared_with_stores": true}),
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let id = conversation_with_clara(&app, &anna, &clara, "Where is my parcel?").await;
    let driver = chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let vendor = browser(&driver, profile.path()).await;
    sign_in(&vendor, &app.address, "vendor", None, "anna@example.test").await;
    vendor
        .goto(&format!("{}/vendor/messages/{id}", app.address))
        .await
        .unwrap();
    vendor
        .find(Locator::Css("#thread-meta select[data-put=topic]"))
        .await
        .unwrap()
        .select_by_label("Delivery")
        .await
        .unwrap();
    for _ in 0..50 {
        let topic = app
            .query_i64(
                "SELECT coalesce(topic_id, 0) FROM conversations WHERE id = ?1",
                vec![id],
            )
            .await;
        if topic > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    vendor
        .find(Locator::Css("#thread-meta select[data-put=assignee]"))
        .await
        .unwrap()
        .select_by_label("Ben")
        .await
        .unwrap();
    wait_for_what(
        &vendor,
        Locator::XPath(
            "//li[contains(@class,'system')]//span[contains(.,'assigned the conversation')]",
        ),
        "the assignment's system message",
    )
    .await;
    assert_eq!(
        app.query_i64(
            "SELECT assignee_id FROM conversations WHERE id = ?1",
            vec![id]
        )
        .await,
        ben.id
    );
    vendor
        .find(Locator::Id("saved-reply"))
        .await
        .unwrap()
        .select_by_label("Thanks")
        .await
        .unwrap();
    let mut text = String::new();
    for _ in 0..50 {
        text = vendor
            .execute("return document.getElementById('content').value;", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !text.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(text, "Thank you, Clara! lumen is on it.");
    screenshot(&vendor, "vendor-thread-workbench").await;
    at_phone_width(&vendor, "vendor-thread-workbench").await;
    click(&vendor, Locator::Css("#composer button[type=submit]")).await;
    wait_for(
        &vendor,
        Locator::XPath("//p[.='Thank you, Clara! lumen is on it.']"),
    )
    .await;
    vendor
        .goto(&format!("{}/vendor/messages?assignee=me", app.address))
        .await
        .unwrap();
    let empty = wait_for(&vendor, Locator::Css("#conversations li.empty")).await;
    assert!(
        !empty.text().await.unwrap().is_empty(),
        "nothing is Anna's own"
    );

    // The admin writes to every store at once.
    let admin_profile = tempfile::tempdir().unwrap();
    let operator = browser(&driver, admin_profile.path()).await;
    sign_in(&operator, &app.address, "admin", None, "ops@example.test").await;
    operator
        .goto(&format!("{}/admin/announcements", app.address))
        .await
        .unwrap();
    type_into(
        &operator,
        Locator::Css("form.api-form input[name=subject]"),
        "Holiday hours",
    )
    .await;
    type_into(
        &operator,
        Locator::Css("form.api-form textarea[name=message]"),
        "We answer slower over the holidays.",
    )
    .await;
    click(&operator, Locator::Css("form.api-form button[type=submit]")).await;
    wait_for_what(
        &operator,
        Locator::XPath("//td[.='Holiday hours']"),
        "the announcement listed",
    )
    .await;
    screenshot(&operator, "admin-announcements-sent").await;
    assert_eq!(
        app.unread(&ben).await,
        2,
        "Anna's answer in the conversation assigned to Ben, and the announcement"
    );
    for client in [vendor, operator] {
        client.close().await.unwrap();
    }
}
