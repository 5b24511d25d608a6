import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router-dom';
import { useAuth, useAuthActions } from '../state/context';
import { Splash } from './Splash';

interface FromState {
  from?: string;
}

/** Only for logged-in users; others go to /login. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { status, sessionExpired } = useAuth();
  const { retry } = useAuthActions();
  const location = useLocation();
  if (status === 'loading') return <Splash />;
  if (status === 'error') return <Splash error onRetry={() => void retry()} />;
  if (status === 'anonymous') {
    // Come back here after logging in, unless the user logged out on purpose.
    const state: FromState | undefined = sessionExpired
      ? { from: location.pathname + location.search }
      : undefined;
    return <Navigate to="/login" replace state={state} />;
  }
  return <>{children}</>;
}

/** Only for logged-out visitors; logged-in users go to the app. */
export function GuestOnly({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const { retry } = useAuthActions();
  const location = useLocation();
  if (status === 'loading') return <Splash />;
  if (status === 'error') return <Splash error onRetry={() => void retry()} />;
  if (status === 'authenticated') {
    const from = (location.state as FromState | null)?.from;
    const target = from && from.startsWith('/') && !from.startsWith('//') ? from : '/app';
    return <Navigate to={target} replace />;
  }
  return <>{children}</>;
}
