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

/**
 * Default transport when SMTP_URL is unset: records who was mailed what subject. The body is kept
 * only in memory (tests read `sent`), never logged, because it carries one-time secrets.
 */
export class LogMailer implements Mailer {
  readonly sent: Mail[] = [];
  constructor(private readonly log: Logger) {}

  async send(mail: Mail): Promise<void> {
    this.sent.push(mail);
    if (this.sent.length > 100) this.sent.shift();
    this.log.info({ mailTo: mail.to, subject: mail.subject }, "mail not sent: no SMTP_URL configured");
  }
}

export class SmtpMailer implements Mailer {
  private readonly transport;
  constructor(
    url: string,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport(url);
  }

  async send(mail: Mail): Promise<void> {
    await this.transport.sendMail({ from: this.from, ...mail });
  }
}
