// A page restored from the back/forward cache after signing out must not show what it showed:
// it stays hidden until the session is checked, and the sign-in page replaces it when there is
// none. `onShown` runs once a restored page is known to be still signed in.
export function guardRestoredPages(area, onShown = () => {}) {
  window.addEventListener('pageshow', async (event) => {
    if (!event.persisted) return;
    document.body.hidden = true;
    const signedIn = await fetch(`/api/v1/${area}/auth/me`, { credentials: 'same-origin' })
      .then((r) => r.ok).catch(() => false);
    if (!signedIn) { location.replace(`/${area}/login`); return; }
    document.body.hidden = false;
    onShown();
  });
}
