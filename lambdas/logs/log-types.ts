/** Auth0 log event type codes this service emits, with Auth0's descriptions. */
export const logTypes = {
  s: 'Success Login',
  f: 'Failed Login',
  fp: 'Incorrect Password',
  fu: 'Invalid Email or Username',
  sepft: 'Success Exchange',
  fepft: 'Failed Exchange',
  sertft: 'Success Exchange',
  fertft: 'Failed Exchange',
  ferrt: 'Failed Exchange: Rotating Refresh Token reuse detected',
  seccft: 'Success Exchange',
  feccft: 'Failed Exchange',
  seacft: 'Success Exchange',
  feacft: 'Failed Exchange',
  limit_wc: 'Blocked Account',
  limit_sul: 'Blocked IP Address',
  ublkdu: 'User login block released',
  srrt: 'Successful Refresh Token Revocation',
  sapi: 'Success API Operation',
  fapi: 'Failed API Operation',
  ss: 'Success Signup',
  fs: 'Failed Signup',
  slo: 'Success Logout',
  sui: 'Success Users Import',
  fui: 'Failed Users Import',
} as const;

export type LogType = keyof typeof logTypes;
export type MigrationPath = 'password_fallback' | 'refresh_remint' | 'social';
