// An invitation link's code between two screens of the redirect mode (BFF_SIGNIN_MODE=redirect):
// `/signin?invitation=<code>` hands it to the sign-up form (`invitationCode`, POST /bff/signup).
// This page's memory only: never localStorage or sessionStorage, never the address bar.

let kept = null;

/** Keep `code` for the next screen that asks for it. */
export function keepInvitation(code) {
  kept = code;
}

/** The kept code, once (null when there is none). */
export function takeKeptInvitation() {
  const code = kept;
  kept = null;
  return code;
}
