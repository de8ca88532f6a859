import type { ComponentChildren } from "preact";

/** A labelled form field with its validation message (from the 400's field violations)
 * tied to it, so a screen reader reads the message with the field. */
export function Field({ id, label, error, hint, children }: {
  id: string; label: string; error?: string | undefined; hint?: string; children: (aria: FieldAria) => ComponentChildren;
}) {
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint && <p id={`${id}-hint`} class="hint">{hint}</p>}
      {children({ id, "aria-invalid": error ? true : undefined, "aria-describedby": described })}
      {error && <p id={`${id}-error`} class="field-error">{error}</p>}
    </div>
  );
}

export interface FieldAria {
  id: string;
  "aria-invalid": true | undefined;
  "aria-describedby": string | undefined;
}
