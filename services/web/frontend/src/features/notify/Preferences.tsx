import { useQuery, useQueryClient } from "@tanstack/react-query";
import { notification, unwrap } from "../../api/client";
import { QueryState } from "../../components/Loading";
import { useSignedInMember } from "../auth/session";
import { PreferencesForm, type Preferences } from "./PreferencesForm";
import { WebhookManager, type WebhookApi } from "./Webhooks";

const PREFERENCES_KEY = ["notification", "preferences"] as const;

/** The signed-in member's notification preferences and webhooks (the e-mails' List-Unsubscribe page). */
export default function PreferencesPage() {
  const me = useSignedInMember();
  const queryClient = useQueryClient();
  const preferences = useQuery({
    queryKey: PREFERENCES_KEY,
    queryFn: () => unwrap(notification.GET("/notifications/preferences")),
  });
  const webhooksKey = ["notification", "webhooks", me.member_id];
  const webhooks = useQuery({
    queryKey: webhooksKey,
    queryFn: () =>
      unwrap(notification.GET("/members/{member_id}/webhooks", { params: { path: { member_id: me.member_id } } })),
  });
  const path = (id: string) => ({ params: { path: { member_id: me.member_id, subscription_id: id } } });
  const refresh = () => queryClient.invalidateQueries({ queryKey: webhooksKey });
  const after = async <T,>(pending: Promise<T>): Promise<T> => {
    try {
      return await pending;
    } finally {
      await refresh();
    }
  };
  const api: WebhookApi = {
    add: (body) =>
      after(unwrap(notification.POST("/members/{member_id}/webhooks", { params: { path: { member_id: me.member_id } }, body }))),
    remove: (id) => after(unwrap(notification.DELETE("/members/{member_id}/webhooks/{subscription_id}", path(id)))),
    rotate: (id) =>
      after(unwrap(notification.POST("/members/{member_id}/webhooks/{subscription_id}/rotate-secret", path(id)))),
    test: (id) => unwrap(notification.POST("/members/{member_id}/webhooks/{subscription_id}/test", path(id))),
  };
  return (
    <div className="preferences-page">
      <h1>Preferences</h1>
      <QueryState what="your preferences" isPending={preferences.isPending} error={preferences.error}>
        {preferences.data ? (
          <PreferencesForm
            initial={preferences.data}
            save={(body) => unwrap(notification.PUT("/notifications/preferences", { body }))}
            onSaved={(saved: Preferences) => queryClient.setQueryData(PREFERENCES_KEY, saved)}
          />
        ) : null}
      </QueryState>
      <QueryState what="your webhooks" isPending={webhooks.isPending} error={webhooks.error}>
        {webhooks.data ? <WebhookManager webhooks={webhooks.data} api={api} /> : null}
      </QueryState>
    </div>
  );
}
