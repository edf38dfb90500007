import type { Route, RouteDeps } from './route.js';

/** Interaction callbacks and the interaction webhook: the desk answers them, authenticated by the token in the path. */
export function interactionRoutes({ desk }: RouteDeps): Route[] {
  const message = '/webhooks/:applicationId/:token/messages/:messageId';
  return [
    {
      method: 'POST',
      pattern: '/interactions/:interactionId/:token/callback',
      auth: false,
      handle: ({ params, query, body, files }) =>
        desk.handleCallback(params.interactionId ?? '', params.token ?? '', query, body, files),
    },
    {
      method: 'POST',
      pattern: '/webhooks/:applicationId/:token',
      auth: false,
      handle: ({ params, query, body, files }) =>
        desk.executeWebhook(params.applicationId ?? '', params.token ?? '', query, body, files),
    },
    {
      method: 'GET',
      pattern: message,
      auth: false,
      handle: ({ params }) => desk.getWebhookMessage(params.applicationId ?? '', params.token ?? '', params.messageId ?? ''),
    },
    {
      method: 'PATCH',
      pattern: message,
      auth: false,
      handle: ({ params, body, files }) =>
        desk.editWebhookMessage(params.applicationId ?? '', params.token ?? '', params.messageId ?? '', body, files),
    },
    {
      method: 'DELETE',
      pattern: message,
      auth: false,
      handle: ({ params }) => desk.deleteWebhookMessage(params.applicationId ?? '', params.token ?? '', params.messageId ?? ''),
    },
  ];
}
