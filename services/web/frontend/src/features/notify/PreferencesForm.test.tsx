import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/problem";
import { PreferencesForm, type Preferences } from "./PreferencesForm";

const initial: Preferences = {
  member_id: "m-ann", time_zone: "UTC", channels: {}, quiet_hours: null, digest: false, version: 0,
};

describe("PreferencesForm", () => {
  it("sends time zone, quiet hours, digest and the channels that differ", async () => {
    const save = vi.fn().mockImplementation(async (body) => ({ ...initial, ...body, version: 1 }));
    const onSaved = vi.fn();
    render(<PreferencesForm initial={initial} save={save} onSaved={onSaved} />);
    await userEvent.selectOptions(screen.getByLabelText("Time zone"), "Europe/Helsinki");
    await userEvent.type(screen.getByLabelText("Quiet hours from"), "22:00");
    await userEvent.type(screen.getByLabelText("Quiet hours until"), "07:00");
    await userEvent.click(screen.getByLabelText("Daily digest"));
    const inApp = screen.getByLabelText("In app for task.done");
    expect(inApp).toBeChecked();
    expect(inApp).toBeDisabled();
    await userEvent.click(screen.getByLabelText("Email for task.done"));
    await userEvent.click(screen.getByLabelText("Webhook for Every other kind"));
    await userEvent.click(screen.getByRole("button", { name: "Save preferences" }));
    expect(save).toHaveBeenCalledWith({
      time_zone: "Europe/Helsinki", quiet_hours: ["22:00", "07:00"], digest: true,
      // task.done was set on its own (no email), so it keeps its webhook; the rest follow "*".
      channels: { "*": ["in_app", "email"], "task.done": ["in_app", "webhook"] },
    });
    expect(onSaved).toHaveBeenCalled();
    expect(await screen.findByText("Preferences saved.")).toBeInTheDocument();
  });

  it("lists every kind and every other kind in the channels table", () => {
    render(<PreferencesForm initial={initial} save={vi.fn()} onSaved={vi.fn()} />);
    const table = screen.getByRole("table", { name: "Channels per kind of notification" });
    expect(within(table).getAllByRole("row")).toHaveLength(1 + 18 + 1);
    expect(within(table).getByRole("rowheader", { name: /Every other kind/ })).toBeInTheDocument();
  });

  it("shows a 422's field errors next to their fields", async () => {
    const save = vi.fn().mockRejectedValue(new ApiError({
      title: "Invalid request", status: 422, detail: "time_zone: 'Mars/Olympus' is not a known time zone",
      errors: [
        { loc: ["time_zone"], msg: "time_zone: 'Mars/Olympus' is not a known time zone" },
        { loc: ["body", "quiet_hours", 0], msg: "not a time of day" },
      ],
    }));
    render(<PreferencesForm initial={{ ...initial, time_zone: "Mars/Olympus" }} save={save} onSaved={vi.fn()} />);
    await userEvent.click(screen.getByRole("button", { name: "Save preferences" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("(422)");
    const zone = screen.getByLabelText("Time zone");
    expect(zone).toHaveAttribute("aria-invalid", "true");
    expect(zone).toHaveAccessibleDescription("time_zone: 'Mars/Olympus' is not a known time zone");
    expect(screen.getByLabelText("Quiet hours from")).toHaveAccessibleDescription("not a time of day");
  });

  it("asks for both quiet hours (or neither) before sending", async () => {
    const save = vi.fn();
    render(<PreferencesForm initial={initial} save={save} onSaved={vi.fn()} />);
    await userEvent.type(screen.getByLabelText("Quiet hours from"), "22:00");
    await userEvent.click(screen.getByRole("button", { name: "Save preferences" }));
    expect(save).not.toHaveBeenCalled();
    expect(screen.getByLabelText("Quiet hours until")).toHaveAccessibleDescription(/Give both times/);
  });
});
