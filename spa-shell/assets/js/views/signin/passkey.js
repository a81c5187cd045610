// A passkey (the webauthn authenticator, BFF_SIGNIN_WEBAUTHN=on): enroll-authenticator with a
// WebAuthn enrollment calls navigator.credentials.create with Okta's activationData, and
// challenge-authenticator calls navigator.credentials.get with its challengeData, both as
// okta-auth-js builds them (docs/signin.md, "Passkeys"); the answer is posted base64url.
// Nothing is sent when the user cancels or the browser refuses: the step's alternatives stay.

import { t } from '../../copy.js';
import { h } from '../../dom.js';
import { submitButton, stepForm } from './parts.js';

/** RFC 4648 §5 base64url without padding <-> bytes. */
export function b64urlDecode(text) {
  const b64 = String(text).replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export function b64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function enrolling(step) {
  const auth = step.authenticator || {};
  return step.step === 'enroll-authenticator' && auth.enrollment && auth.enrollment.type === 'webauthn';
}

export function title(flow) {
  return t(enrolling(flow.step) ? 'signin:step.passkeyEnroll.title' : 'signin:step.passkey.title');
}

async function ceremony(step) {
  const auth = step.authenticator || {};
  if (enrolling(step)) {
    const data = auth.enrollment.activationData || {};
    const publicKey = {
      ...data,
      challenge: b64urlDecode(data.challenge),
      user: { ...data.user, id: b64urlDecode(data.user && data.user.id) },
    };
    if (Array.isArray(data.excludeCredentials)) {
      publicKey.excludeCredentials = data.excludeCredentials.map((c) => ({ ...c, id: b64urlDecode(c.id) }));
    }
    const cred = await navigator.credentials.create({ publicKey });
    const transports = typeof cred.response.getTransports === 'function' ? cred.response.getTransports() : [];
    return {
      'credentials.clientData': b64url(cred.response.clientDataJSON),
      'credentials.attestation': b64url(cred.response.attestationObject),
      'credentials.transports': JSON.stringify(transports),
      'credentials.clientExtensions': JSON.stringify(cred.getClientExtensionResults()),
    };
  }
  const challenge = auth.challenge || {};
  const data = challenge.challengeData || {};
  const publicKey = {
    challenge: b64urlDecode(data.challenge),
    userVerification: data.userVerification,
    timeout: data.timeout,
    allowCredentials: (Array.isArray(challenge.credentialIds) ? challenge.credentialIds : [])
      .map((id) => ({ type: 'public-key', id: b64urlDecode(id) })),
  };
  if (data.rpId) publicKey.rpId = data.rpId;
  const assertion = await navigator.credentials.get({ publicKey });
  return {
    'credentials.clientData': b64url(assertion.response.clientDataJSON),
    'credentials.authenticatorData': b64url(assertion.response.authenticatorData),
    'credentials.signatureData': b64url(assertion.response.signature),
  };
}

export function render(flow) {
  const step = flow.step;
  const supported = typeof window.PublicKeyCredential === 'function' && navigator.credentials;
  const form = stepForm(flow, step.step, [
    supported ? submitButton(flow, t(enrolling(step) ? 'signin:action.passkey.create' : 'signin:action.passkey.use'))
      : h('p', { class: 'alert alert-info', id: 'passkey-unavailable' }, t('signin:step.passkey.unavailable')),
  ], () => {
    if (!supported) return null;
    flow.busyWith('submit');
    ceremony(step).then(
      (values) => flow.submit(step.step, values),
      (err) => flow.notify(err && (err.name === 'NotAllowedError' || err.name === 'AbortError')
        ? t('signin:step.passkey.cancelled') : t('signin:step.passkey.failed')),
    );
    return null; // posted once the browser answers
  });
  return [
    h('p', { class: 'lead', id: 'passkey-body' }, t(enrolling(step) ? 'signin:step.passkeyEnroll.body' : 'signin:step.passkey.body')),
    form,
  ];
}
