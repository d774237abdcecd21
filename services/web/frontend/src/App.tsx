import { lazy, Suspense } from "react";
import { Route, Routes } from "react-router";
import { Layout } from "./components/Layout";
import { Loading } from "./components/Loading";
import { RequireSignIn } from "./features/auth/RequireSignIn";
import { SignIn } from "./features/auth/SignIn";
import { MyWork } from "./features/mywork/MyWork";
import { CampaignRedirect, TaskRedirect } from "./features/notify/Redirects";

// The heavier views load on demand (the charts library only with the reports).
const CampaignBoard = lazy(() => import("./features/board/CampaignBoard"));
const YearCalendar = lazy(() => import("./features/calendar/YearCalendar"));
const Reports = lazy(() => import("./features/reports/Reports"));
const CampaignList = lazy(() => import("./features/campaigns/CampaignList"));
const CampaignTimeline = lazy(() => import("./features/timeline/CampaignTimeline"));
const PlaybookList = lazy(() => import("./features/playbooks/PlaybookList"));
const PlaybookView = lazy(() => import("./features/playbooks/PlaybookView"));
const Audit = lazy(() => import("./features/audit/Audit"));
const Team = lazy(() => import("./features/team/Team"));
const NotificationsPage = lazy(() => import("./features/notify/NotificationsPage"));
const PreferencesPage = lazy(() => import("./features/notify/Preferences"));

export function App() {
  return (
    <Suspense fallback={<Loading what="the page" />}>
      <Routes>
        <Route path="/sign-in" element={<SignIn />} />
        <Route element={<RequireSignIn />}>
          <Route element={<Layout />}>
            <Route index element={<MyWork />} />
            <Route path="/campaigns" element={<CampaignList />} />
            <Route path="/campaigns/:campaignId/timeline" element={<CampaignTimeline />} />
            <Route path="/playbooks" element={<PlaybookList />} />
            <Route path="/playbooks/:playbookId" element={<PlaybookView />} />
            <Route path="/audit/:kind/:subjectId" element={<Audit />} />
            <Route path="/team" element={<Team />} />
            <Route path="/campaigns/:campaignId/board" element={<CampaignBoard />} />
            <Route path="/campaigns/:campaignId/board/tasks/:taskId" element={<CampaignBoard />} />
            {/* The notification service's e-mails and webhooks link to these three. */}
            <Route path="/tasks/:taskId" element={<TaskRedirect />} />
            <Route path="/campaigns/:campaignId" element={<CampaignRedirect />} />
            <Route path="/preferences" element={<PreferencesPage />} />
            <Route path="/notifications" element={<NotificationsPage />} />
            <Route path="/calendar" element={<YearCalendar />} />
            <Route path="/reports" element={<Reports />} />
            <Route path="*" element={<NotFound />} />
          </Route>
        </Route>
      </Routes>
    </Suspense>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>No page has this address.</p>
    </section>
  );
}
