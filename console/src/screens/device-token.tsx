import { CopyButton } from "../ui/forms";

/** A device token, shown this once, with the firmware's one-line provisioning command. */
export function TokenOnce({ deviceId, name, token, onDone }: { deviceId: string; name: string; token: string; onDone(): void }) {
  const line = `provision ${deviceId} ${token} ${location.origin} "your wifi" "wifi password"`;
  return (
    <div class="token-once" role="region" aria-label={`Token of ${name}`}>
      <p>
        <strong>{name}</strong>: this token is shown only now. Store it in the device; rotating it issues a new one.
      </p>
      <dl>
        <dt>Device id</dt>
        <dd>
          <code data-copy={deviceId}>{deviceId}</code> <CopyButton text={deviceId} label="Copy id" />
        </dd>
        <dt>Token</dt>
        <dd>
          <code class="token" data-copy={token} data-testid="device-token">
            {token}
          </code>{" "}
          <CopyButton text={token} label="Copy token" />
        </dd>
      </dl>
      <p>In the firmware's serial monitor (115200 baud), type this line, with your Wi-Fi's name and password:</p>
      <pre data-copy={line}>{line}</pre>
      <p>
        <CopyButton text={line} label="Copy provisioning line" />{" "}
        <button type="button" onClick={onDone}>
          Done, I stored it
        </button>
      </p>
    </div>
  );
}
