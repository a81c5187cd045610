// "/": the signed-in home, or the sign-in screen for a visitor.
import home from './home.js';
import signin from './signin.js';

// A tab in the middle of its own sign-in keeps it when someone signs in in another tab.
const pick = (ctx) => (ctx.user && !(signin.holdsSignin && signin.holdsSignin()) ? home : signin);

export default {
  journeys: (ctx) => pick(ctx).journeys(ctx),
  title: (ctx) => pick(ctx).title(ctx),
  enter: (ctx) => { const v = pick(ctx); if (v.enter) v.enter(ctx); },
  holdsSignin: () => Boolean(signin.holdsSignin && signin.holdsSignin()),
  signedInElsewhere: () => signin.signedInElsewhere && signin.signedInElsewhere(),
  leave: () => { if (home.leave) home.leave(); if (signin.leave) signin.leave(); },
  render: (ctx) => pick(ctx).render(ctx),
};
