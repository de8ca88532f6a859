import type { ComponentChildren } from "preact";
import { navigate } from "../router";

/** An ordinary link that the app follows without reloading the page. */
export function Link({ href, children, ...rest }: {
  href: string; children: ComponentChildren; class?: string; "aria-label"?: string; "aria-current"?: "page";
}) {
  const follow = (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={follow} {...rest}>{children}</a>;
}
