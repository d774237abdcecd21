import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { SlaBadge } from "./SlaBadge";

describe("SlaBadge", () => {
  it.each([
    ["on_time", "On time"],
    ["at_risk", "At risk"],
    ["late", "Late"],
  ])("labels %s as %s with its colour class", (sla, label) => {
    render(<SlaBadge sla={sla} />);
    const badge = screen.getByTitle(`SLA: ${label}`);
    expect(badge).toHaveTextContent(label);
    expect(badge).toHaveClass(`sla-${sla}`);
  });

  it("shows nothing for a finished task", () => {
    const { container } = render(<SlaBadge sla={null} />);
    expect(container).toBeEmptyDOMElement();
  });
});
