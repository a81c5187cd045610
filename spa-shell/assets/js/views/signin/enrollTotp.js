// enroll-authenticator for a TOTP app (google_otp): the QR code of the otpauth:// URI, drawn
// here as SVG by the vendored encoder (js/vendor/qrcode.js, MIT; no image service, nothing
// but 'self' in the CSP), the same secret as text for typing in, then the first code.

import { t } from '../../copy.js';
import { h } from '../../dom.js';
import qrcode from '../../vendor/qrcode.js';
import { codeForm } from './parts.js';

const SVG = 'http://www.w3.org/2000/svg';
const QUIET = 4; // modules of quiet zone around the symbol (ISO/IEC 18004)

export function title() {
  return t('signin:step.enroll.title');
}

/** The QR symbol of `text` as an <svg> (one path of unit squares), with an accessible name. */
export function qrSvg(text, label) {
  const qr = qrcode(0, 'M');
  qr.addData(text, 'Byte');
  qr.make();
  const n = qr.getModuleCount();
  const size = n + QUIET * 2;
  const svg = document.createElementNS(SVG, 'svg');
  for (const [k, v] of Object.entries({
    viewBox: `0 0 ${size} ${size}`, width: '192', height: '192', role: 'img', 'aria-label': label,
    'shape-rendering': 'crispEdges', class: 'qr', id: 'totp-qr', 'data-modules': String(n),
  })) svg.setAttribute(k, v);
  const background = document.createElementNS(SVG, 'rect');
  for (const [k, v] of Object.entries({ width: String(size), height: String(size), fill: '#ffffff' })) background.setAttribute(k, v);
  let d = '';
  for (let row = 0; row < n; row += 1) {
    for (let col = 0; col < n; col += 1) {
      if (qr.isDark(row, col)) d += `M${col + QUIET} ${row + QUIET}h1v1h-1z`;
    }
  }
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', '#000000');
  svg.append(background, path);
  return svg;
}

function grouped(secret) {
  return secret.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}

export function render(flow) {
  const step = flow.step;
  const enrollment = (step.authenticator && step.authenticator.enrollment) || {};
  const secret = typeof enrollment.sharedSecret === 'string' ? enrollment.sharedSecret : '';
  const uri = typeof enrollment.otpauthUri === 'string' && enrollment.otpauthUri.startsWith('otpauth://')
    ? enrollment.otpauthUri : null;
  const form = codeForm(flow, step.step, t('signin:step.enroll.codeHint'));
  return [
    h('ol', { class: 'steps-list' },
      h('li', {}, t('signin:step.enroll.install')),
      h('li', {}, t('signin:step.enroll.scan')),
      h('li', {}, t('signin:step.enroll.enterCode'))),
    uri ? h('figure', { class: 'qr-figure' }, qrSvg(uri, t('signin:step.enroll.qrLabel'))) : null,
    secret ? h('div', { class: 'secret-box' },
      h('p', { class: 'hint', id: 'totp-secret-label' }, t('signin:step.enroll.key')),
      h('code', { id: 'totp-secret', class: 'secret', 'aria-labelledby': 'totp-secret-label', 'data-secret': secret },
        grouped(secret))) : null,
    form,
  ];
}
