import type { Logger } from "pino";
import nodemailer from "nodemailer";

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** Where mails go. Tests read `LogMailer.sent`; production sets SMTP_URL. */
export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/** `SMTP_URL=log:`: mails are printed to the log instead of sent (Django's console backend). */
export const LOG_MAIL_URL = "log:";

/** Printed for every dropped mail: the operator reading it learns how to get the mail next time. */
const DROPPED =
  "mail not sent: SMTP_URL is unset. Set SMTP_URL=log: to print mails (reset links included) to this log, " +
  "or SMTP_URL=smtp://... to send them; a password can also be set with `npm run admin -- reset-password <email or username>`";

/**
 * The transport without SMTP. By default it records who was mailed what subject: the body carries
 * one-time secrets (reset links), so it is kept only in memory (tests read `sent`) and never logged.
 * With `printBodies` (SMTP_URL=log:, a single-user setup) the whole mail is logged at info level.
 */
export class LogMailer implements Mailer {
  readonly sent: Mail[] = [];
  constructor(
    private readonly log: Logger,
    private readonly printBodies = false,
  ) {}

  async send(mail: Mail): Promise<void> {
    this.sent.push(mail);
    if (this.sent.length > 100) this.sent.shift();
    if (this.printBodies) {
      this.log.info({ mail: { to: mail.to, subject: mail.subject, text: mail.text } }, "mail (SMTP_URL=log:, not sent)");
    } else {
      this.log.info({ mailTo: mail.to, subject: mail.subject }, DROPPED);
    }
  }
}

export class SmtpMailer implements Mailer {
  private readonly transport;
  constructor(
    url: string,
    private readonly from: string,
    private readonly log?: Logger,
  ) {
    this.transport = nodemailer.createTransport(url);
  }

  async send(mail: Mail): Promise<void> {
    try {
      await this.transport.sendMail({ from: this.from, ...mail });
    } catch (error) {
      // Callers send in the background and may swallow the error: this line is the operator's only trace.
      this.log?.warn({ mailTo: mail.to, subject: mail.subject, err: (error as Error).message }, "mail could not be sent over SMTP_URL");
      throw error;
    }
  }
}

/** The mailer SMTP_URL asks for: unset, `log:` or an smtp(s):// URL. */
export function createMailer(smtpUrl: string | undefined, from: string, log: Logger): Mailer {
  if (smtpUrl === LOG_MAIL_URL) {
    log.warn("SMTP_URL=log: mails are written to this log instead of sent, password-reset links included");
    return new LogMailer(log, true);
  }
  return smtpUrl ? new SmtpMailer(smtpUrl, from, log) : new LogMailer(log);
}
