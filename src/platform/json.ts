/** A value a device reported or the app asked for: anything JSON can hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object, as devices report and widgets configure. */
export type JsonObject = { [key: string]: JsonValue };
