import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { ArchivedEvent } from "../../api/types";
import { AuditTimeline, eventLabel } from "./AuditTimeline";

const event = (overrides: Partial<ArchivedEvent>): ArchivedEvent => ({
  id: "e1", source: "execution", type: "task.changes_requested", time: "2030-01-02T10:00:00Z", subject: "t1",
  actor: "erin", aggregate_version: 3, correlation_id: null, causation_id: null, reason: "Logo too small", data: {}, ...overrides,
});

describe("AuditTimeline", () => {
  it("lists each event with its actor, time and reason", () => {
    render(<AuditTimeline events={[event({}), event({ id: "e2", type: "task.approved", actor: "anna", reason: null })]} />);
    const items = screen.getAllByRole("listitem");
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent("task changes requested by erin");
    expect(items[0]).toHaveTextContent("Reason: Logo too small");
    expect(items[0]?.querySelector("time")).toHaveAttribute("datetime", "2030-01-02T10:00:00Z");
    expect(items[1]).not.toHaveTextContent("Reason");
  });

  it("says so when nothing happened", () => {
    render(<AuditTimeline events={[]} />);
    expect(screen.getByText("Nothing has happened yet.")).toBeInTheDocument();
  });

  it("labels event types readably", () => {
    expect(eventLabel("marketflow.planning.campaign.planned.v1")).toBe("planning campaign planned");
  });
});
