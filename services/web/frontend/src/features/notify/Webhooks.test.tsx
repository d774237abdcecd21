import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/problem";
import { WebhookManager, testSummary, type Webhook, type WebhookApi } from "./Webhooks";

const hook: Webhook = { id: "w1", owner: "member:m-ann", url: "https://hooks.example/in", kinds: [], active: true };

function api(overrides: Partial<WebhookApi> = {}): WebhookApi {
  return {
    add: vi.fn().mockResolvedValue({ ...hook, id: "w2", url: "https://new.example/hook", secret: "whsec_new" }),
    remove: vi.fn().mockResolvedValue(hook),
    rotate: vi.fn().mockResolvedValue({ ...hook, secret: "whsec_rotated" }),
    test: vi.fn().mockResolvedValue({ delivered: true, status_code: 204, error: null }),
    ...overrides,
  };
}

describe("WebhookManager", () => {
  it("adds a webhook with URL and kinds and shows its secret once, with a copy button", async () => {
    const calls = api();
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    render(<WebhookManager webhooks={[]} api={calls} />);
    await userEvent.type(screen.getByLabelText("Webhook URL"), "https://new.example/hook");
    await userEvent.click(screen.getByLabelText("task.assigned"));
    await userEvent.click(screen.getByRole("button", { name: "Add webhook" }));
    expect(calls.add).toHaveBeenCalledWith({ url: "https://new.example/hook", kinds: ["task.assigned"] });
    const secret = await screen.findByRole("region", { name: /Signing secret of https:\/\/new.example\/hook/ });
    expect(secret).toHaveFocus();
    expect(secret).toHaveTextContent("won't be shown again");
    expect(within(secret).getByLabelText("Signing secret")).toHaveValue("whsec_new");
    await userEvent.click(within(secret).getByRole("button", { name: "Copy secret" }));
    expect(writeText).toHaveBeenCalledWith("whsec_new");
    expect(await within(secret).findByText("Copied.")).toBeInTheDocument();
    await userEvent.click(within(secret).getByRole("button", { name: "I have stored it" }));
    expect(screen.queryByText("whsec_new")).toBeNull();
    expect(screen.queryByRole("region", { name: /Signing secret/ })).toBeNull();
  });

  it("tests a webhook and shows what the receiver answered", async () => {
    render(<WebhookManager webhooks={[hook]} api={api()} />);
    await userEvent.click(screen.getByRole("button", { name: "Send a test to https://hooks.example/in" }));
    expect(await screen.findByText("Test delivered: the receiver answered 204.")).toBeInTheDocument();
    expect(testSummary({ delivered: false, status_code: 500, error: null })).toBe("Test not delivered: the receiver answered 500.");
    expect(testSummary({ delivered: false, status_code: null, error: "timed out" }))
      .toBe("Test not delivered: the receiver was not reachable (timed out).");
  });

  it("rotates the secret (shown once) and deletes after a confirmation", async () => {
    const calls = api();
    render(<WebhookManager webhooks={[hook]} api={calls} />);
    await userEvent.click(screen.getByRole("button", { name: "Rotate the secret of https://hooks.example/in" }));
    expect(await screen.findByDisplayValue("whsec_rotated")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Delete https://hooks.example/in" }));
    expect(calls.remove).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole("button", { name: "Confirm deleting https://hooks.example/in" }));
    expect(calls.remove).toHaveBeenCalledWith("w1");
  });

  it("shows a 422 on the URL next to the field", async () => {
    const calls = api({
      add: vi.fn().mockRejectedValue(new ApiError({
        title: "Invalid request", status: 422, detail: "url: loopback addresses are not allowed",
        errors: [{ loc: ["url"], msg: "url: loopback addresses are not allowed" }],
      })),
    });
    render(<WebhookManager webhooks={[]} api={calls} />);
    await userEvent.type(screen.getByLabelText("Webhook URL"), "http://127.0.0.1/x");
    await userEvent.click(screen.getByRole("button", { name: "Add webhook" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("(422)");
    expect(screen.getByLabelText("Webhook URL")).toHaveAccessibleDescription("url: loopback addresses are not allowed");
  });
});
