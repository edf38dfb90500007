import { ChannelType, MessageType, PermissionFlagsBits } from 'discord.js';
import { DiscordHttpError, asObject } from '../http-util.js';
import { validateMessageBody } from '../validation.js';
import { messageJson } from '../wire.js';
import type { Lookups } from './lookups.js';
import { limitParam, noContent, ok, type Route, type RouteDeps } from './route.js';

export function messageRoutes(deps: RouteDeps, look: Lookups): Route[] {
  const { state } = deps;
  const { channelOf, channelMessage, requireChannelAccess } = look;
  const list = '/channels/:channelId/messages';
  const one = `${list}/:messageId`;
  return [
    {
      method: 'GET',
      pattern: list,
      auth: true,
      handle: ({ params, query }) => {
        const channel = channelOf(params);
        requireChannelAccess(channel, PermissionFlagsBits.ReadMessageHistory);
        const limit = limitParam(query, 50, 100);
        // Discord lists newest first.
        const newest = state.channelMessages(channel.id).reverse().slice(0, limit);
        return ok(newest.map((message) => messageJson(state, message)));
      },
    },
    { method: 'POST', pattern: list, auth: true, handle: postMessage(deps, look) },
    { method: 'GET', pattern: one, auth: true, handle: ({ params }) => ok(messageJson(state, channelMessage(channelOf(params), params.messageId))) },
    { method: 'PATCH', pattern: one, auth: true, handle: editMessage(deps, look) },
    { method: 'DELETE', pattern: one, auth: true, handle: deleteMessage(deps, look) },
  ];
}

function postMessage({ state, messages, announce }: RouteDeps, look: Lookups): Route['handle'] {
  return ({ params, body, files }) => {
    const channel = look.channelOf(params);
    const payload = asObject(body);
    look.requireChannelAccess(channel, PermissionFlagsBits.SendMessages | (files.length > 0 ? PermissionFlagsBits.AttachFiles : 0n));
    validateMessageBody(payload, files, true);
    const message = messages.create({
      channelId: channel.id,
      guildId: channel.guildId,
      body: payload,
      files,
      type: MessageType.Default,
    });
    announce(message, 'create');
    return ok(messageJson(state, message));
  };
}

function editMessage({ state, messages, announce }: RouteDeps, look: Lookups): Route['handle'] {
  return ({ params, body, files }) => {
    const message = look.channelMessage(look.channelOf(params), params.messageId);
    if (message.authorId !== state.botUser.id) throw new DiscordHttpError(403, 50005, 'Cannot edit a message authored by another user');
    const payload = asObject(body);
    validateMessageBody(payload, files, false);
    messages.edit(message, payload, files);
    announce(message, 'update');
    return ok(messageJson(state, message));
  };
}

function deleteMessage({ state, announce }: RouteDeps, look: Lookups): Route['handle'] {
  return ({ params }) => {
    const channel = look.channelOf(params);
    const message = look.channelMessage(channel, params.messageId);
    if (message.authorId !== state.botUser.id && channel.type !== ChannelType.DM) {
      look.requireChannelAccess(channel, PermissionFlagsBits.ManageMessages);
    }
    message.deleted = true;
    announce(message, 'delete');
    return noContent();
  };
}
