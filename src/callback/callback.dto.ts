import { IsEmail, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { EZID_MAX_CREDENTIAL_LENGTH } from './callback.constants';

/** Characters of a code, state or refresh token as EZiD issues them (JWTs, hex, uuids, base64url, PASETO). */
const CREDENTIAL = /^[A-Za-z0-9._~+/=-]+$/;
const CREDENTIAL_MSG = { message: '$property has characters that are not allowed' };
/** A code the user types (email/SMS): 4 to 12 letters or digits. */
const TYPED_CODE = /^[A-Za-z0-9]{4,12}$/;
/** E.164: `+`, country code, at most 15 digits in all. */
const E164 = /^\+[1-9][0-9]{6,14}$/;

/** `POST /callback` body: `{ code }` (email link), `{ state }` (magic-link status) or `{ code, state }` (SSO). */
export class EzidCallbackDto {
  /** The `code` of an EZiD email link, or of an SSO redirect (with `state`). */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(EZID_MAX_CREDENTIAL_LENGTH)
  @Matches(CREDENTIAL, CREDENTIAL_MSG)
  code?: string;

  /** The `state` of a magic-link flow, or of an SSO redirect (with `code`). */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  @Matches(CREDENTIAL, CREDENTIAL_MSG)
  state?: string;
}

/** `GET /callback` query: `code` and/or `state`, plus the redirect target. Unknown parameters are ignored. */
export class EzidCallbackQueryDto extends EzidCallbackDto {
  /** Where to go afterwards (EZiD appends it to email links); sanitised and allow-listed. */
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  callback_url?: string;

  /** Alias of `callback_url`. */
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  redirect?: string;
}

/** `POST /magic-link` body. */
export class EzidMagicLinkDto {
  /** The address to email the link to. */
  @IsString()
  @MaxLength(254)
  @IsEmail({ allow_display_name: false, allow_ip_domain: false, require_tld: true })
  email!: string;

  /** Same-origin path on the redirect allow-list to land on after signing in. */
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  redirectPath?: string;
}

/** `POST /email-code` body. */
export class EzidEmailCodeDto {
  /** The address to email the code to. */
  @IsString()
  @MaxLength(254)
  @IsEmail({ allow_display_name: false, allow_ip_domain: false, require_tld: true })
  email!: string;
}

/** `POST /sms` body. */
export class EzidSmsDto {
  /** E.164 phone number, e.g. `+14155550100`. */
  @IsString()
  @MaxLength(16)
  @Matches(E164, { message: 'phone must be an E.164 number such as +14155550100' })
  phone!: string;
}

/** `POST /email-code/verify` and `POST /sms/verify` body. */
export class EzidCodeVerifyDto {
  /** The `state` returned when the code was sent. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  @Matches(CREDENTIAL, CREDENTIAL_MSG)
  state!: string;

  /** The code the user received. */
  @IsString()
  @Matches(TYPED_CODE, { message: 'code must be 4 to 12 letters or digits' })
  code!: string;
}

/** `POST /refresh` body (json mode; in cookie mode the refresh token comes from its cookie). */
export class EzidRefreshDto {
  /** The refresh token this controller returned with the session. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(EZID_MAX_CREDENTIAL_LENGTH)
  @Matches(CREDENTIAL, CREDENTIAL_MSG)
  refreshToken?: string;
}
