// The customer-facing link pages: small, plain, accessible HTML with no scripts and no external
// resources, so the strict Content-Security-Policy below holds and the page works everywhere.

export const LINK_PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  // The URL carries the link token (and, on callbacks, the OAuth code): no referrer may leak it.
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
});

export type LinkProviderName = 'discord' | 'steam';

export type LinkPageView =
  | {
      kind: 'choose';
      /** Path prefix of this link (`/link/<token>`), for the two buttons. */
      linkPath: string;
      discordUsername: string | null;
      discordLinked: boolean;
      steamUsername: string | null;
      steamLinked: boolean;
      discordAvailable: boolean;
      steamAvailable: boolean;
    }
  | { kind: 'linked'; provider: LinkProviderName; accountName: string }
  | { kind: 'expired'; message: string }
  | { kind: 'failed'; title: string; message: string; reference?: string | undefined };

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const PROVIDER_LABEL: Record<LinkProviderName, string> = { discord: 'Discord', steam: 'Steam' };

const STYLE = `
  :root { color-scheme: light dark; }
  body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 1.125rem; line-height: 1.6;
         max-width: 34rem; margin: 3rem auto; padding: 0 1.25rem; color: #1b1b1b; background: #fff; }
  h1 { font-size: 1.6rem; line-height: 1.3; margin: 0 0 1rem; }
  ul { padding-left: 1.25rem; }
  .actions { display: flex; flex-wrap: wrap; gap: 0.75rem; margin: 1.5rem 0; }
  .button { display: inline-block; padding: 0.7rem 1.2rem; border-radius: 0.4rem; background: #1f4fbf; color: #fff;
            text-decoration: none; font-weight: 600; }
  .button:hover { background: #173c93; }
  a:focus-visible, .button:focus-visible { outline: 3px solid #f5a300; outline-offset: 3px; }
  .note { color: #4a4a4a; font-size: 1rem; }
  @media (prefers-color-scheme: dark) {
    body { color: #eee; background: #161616; }
    .note { color: #c4c4c4; }
    .button { background: #3f6fe0; }
  }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function linkedLine(provider: LinkProviderName, linked: boolean, username: string | null): string {
  const label = PROVIDER_LABEL[provider];
  if (!linked) return `<li>${label}: not linked yet</li>`;
  return `<li>${label}: ${username ? `<strong>${escapeHtml(username)}</strong>` : 'an account'} is linked</li>`;
}

/** The whole page for one state, every interpolated value escaped. */
export function renderLinkPage(view: LinkPageView): string {
  switch (view.kind) {
    case 'choose': {
      const buttons = [
        view.discordAvailable ? `<a class="button" href="${escapeHtml(view.linkPath)}/discord">Link Discord</a>` : '',
        view.steamAvailable ? `<a class="button" href="${escapeHtml(view.linkPath)}/steam">Link Steam</a>` : '',
      ].join('\n');
      const none = !view.discordAvailable && !view.steamAvailable ? '<p>Linking is not available right now. Please contact the store.</p>' : '';
      return page(
        'Link your accounts',
        `<h1>Link your accounts</h1>
<p>Connect your Discord or Steam account to your store account, so the store can deliver what you buy.</p>
<ul>
${linkedLine('discord', view.discordLinked, view.discordUsername)}
${linkedLine('steam', view.steamLinked, view.steamUsername)}
</ul>
<div class="actions">
${buttons}
</div>
${none}<p class="note">Linking again replaces the account linked before. This link works once and expires 15 minutes after the store created it.</p>`,
      );
    }
    case 'linked': {
      const label = PROVIDER_LABEL[view.provider];
      return page(
        `${label} account linked`,
        `<h1>${label} account linked</h1>
<p>Your ${label} account <strong>${escapeHtml(view.accountName)}</strong> is now linked to your store account.</p>
<p class="note">You can close this page. To link another account, ask the store for a new link.</p>`,
      );
    }
    case 'expired':
      return page('Link expired', `<h1>This link can't be used</h1>\n<p>${escapeHtml(view.message)}</p>`);
    case 'failed': {
      const reference = view.reference ? `\n<p class="note">Reference: ${escapeHtml(view.reference)}</p>` : '';
      return page(view.title, `<h1>${escapeHtml(view.title)}</h1>\n<p>${escapeHtml(view.message)}</p>${reference}`);
    }
  }
}
