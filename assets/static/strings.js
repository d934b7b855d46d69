// The page's words and formats: the `js-` messages of its language's catalogue (rendered into
// <body data-strings>), and the browser's Intl formatters for the page's language.
// Controls that only scripts can work are hidden until a script runs (see .no-js in app.css).
document.documentElement.classList.remove('no-js');

const strings = JSON.parse(document.body.dataset.strings || '{}');
// The catalogue's locale ("en-GB", "de-DE"): times and numbers as the server writes them.
export const lang = document.querySelector('meta[name=locale]')?.content || document.documentElement.lang || 'en';

// `t('seen')`, `t('unread', { count: 3 })`: Fluent leaves unfilled variables as `{$name}`.
export function t(key, vars = {}) {
  return (strings[key] ?? key).replace(/\{\$(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

// An API error in words: the catalogue's text for its code when there is one, else the
// server's own message, else the status.
export function errorText(status, body) {
  const code = body?.error?.code;
  if (code && strings[`error-${code}`]) return t(`error-${code}`);
  return body?.error?.message || t('error-status', { status });
}

const numbers = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
export const number = (n) => numbers.format(n);

// "Today", "Yesterday" in the page's language.
const relative = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
export function relativeDay(days) {
  const text = relative.format(-days, 'day');
  return text.charAt(0).toLocaleUpperCase(lang) + text.slice(1);
}
